package org.fraudshield.android

import okhttp3.Headers
import okhttp3.MediaType.Companion.toMediaTypeOrNull
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.toRequestBody
import okio.Buffer
import org.fraudshield.core.HttpHeader
import org.fraudshield.core.HttpMethod
import org.fraudshield.core.HttpRequest
import org.fraudshield.core.HttpResponse
import org.fraudshield.core.Transport
import org.fraudshield.core.TransportException
import java.io.IOException
import java.io.InterruptedIOException
import java.util.concurrent.TimeUnit

/**
 * The SDK's HTTP through the app's own OkHttp client: platform TLS, the app's proxies,
 * certificate pinning (configure them on [client]) and its connection pool.
 *
 * Follows the `Transport` contract: sends exactly the request's method, URL, headers and body;
 * enforces `timeoutMs` on the whole exchange (OkHttp's call timeout) and `maxResponseBytes`
 * (Content-Length first, then while reading); reports every HTTP status as a response; never
 * logs bodies or the Authorization header; exception texts (which may name the URL) are not
 * passed on.
 *
 * Called by the SDK on the thread that runs `sync` (a background job): blocking is expected.
 */
class OkHttpTransport(client: OkHttpClient) : Transport {
    private val client: OkHttpClient = client.newBuilder()
        .followRedirects(false)
        .followSslRedirects(false)
        .build()

    override fun send(request: HttpRequest): HttpResponse {
        val headers = Headers.Builder().apply { request.headers.forEach { add(it.name, it.value) } }.build()
        val body = when (request.method) {
            HttpMethod.GET -> null
            HttpMethod.POST -> request.body.toRequestBody(headers["Content-Type"]?.toMediaTypeOrNull())
        }
        val call = client.newBuilder()
            .callTimeout(request.timeoutMs.toLong(), TimeUnit.MILLISECONDS)
            .build()
            .newCall(Request.Builder().url(request.url).headers(headers).method(request.method.name, body).build())
        try {
            call.execute().use { response ->
                val max = request.maxResponseBytes.toLong()
                val responseBody = response.body ?: throw TransportException.Connection("no response body")
                if (responseBody.contentLength() > max) throw TransportException.TooLarge()
                val source = responseBody.source()
                val buffer = Buffer()
                while (source.read(buffer, 64L * 1024) != -1L) {
                    if (buffer.size > max) throw TransportException.TooLarge()
                }
                val responseHeaders = response.headers.map { (name, value) -> HttpHeader(name, value) }
                return HttpResponse(response.code.toUShort(), responseHeaders, buffer.readByteArray())
            }
        } catch (e: InterruptedIOException) {
            throw TransportException.Timeout()
        } catch (e: IOException) {
            throw TransportException.Connection(e.javaClass.simpleName)
        }
    }
}
