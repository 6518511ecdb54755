// A Transport written in Kotlin on java.net.http: the host-supplied HTTP path the SDK is built
// for, exercised against the real server. (Android apps use OkHttp: see android/fraudshield's
// OkHttpTransport, which follows the same rules.)
package org.fraudshield.test

import org.fraudshield.core.HttpHeader
import org.fraudshield.core.HttpMethod
import org.fraudshield.core.HttpRequest
import org.fraudshield.core.HttpResponse
import org.fraudshield.core.Transport
import org.fraudshield.core.TransportException
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpTimeoutException
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.net.http.HttpRequest as JdkRequest
import java.net.http.HttpResponse as JdkResponse

class JdkTransport : Transport {
    private val client: HttpClient = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build()

    /** "METHOD path" of every request sent, for the tests to inspect. */
    val sent = CopyOnWriteArrayList<String>()

    override fun send(request: HttpRequest): HttpResponse {
        val deadline = System.nanoTime() + request.timeoutMs.toLong() * 1_000_000
        val builder = JdkRequest.newBuilder(URI.create(request.url))
            .timeout(Duration.ofMillis(request.timeoutMs.toLong()))
        for (h in request.headers) builder.header(h.name, h.value)
        when (request.method) {
            HttpMethod.GET -> builder.GET()
            HttpMethod.POST -> builder.POST(JdkRequest.BodyPublishers.ofByteArray(request.body))
        }
        sent.add("${request.method} ${URI.create(request.url).path}")
        try {
            val response = client.send(builder.build(), JdkResponse.BodyHandlers.ofInputStream())
            val max = request.maxResponseBytes.toLong()
            val declared = response.headers().firstValueAsLong("content-length")
            if (declared.isPresent && declared.asLong > max) {
                response.body().close()
                throw TransportException.TooLarge()
            }
            val body = response.body().use { readCapped(it, max, deadline) }
            val headers = response.headers().map().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
            return HttpResponse(response.statusCode().toUShort(), headers, body)
        } catch (e: HttpTimeoutException) {
            throw TransportException.Timeout()
        } catch (e: IOException) {
            // The exception text may hold the URL: say only what kind of failure it was.
            throw TransportException.Connection(e::class.simpleName ?: "I/O error")
        }
    }

    private fun readCapped(input: InputStream, max: Long, deadline: Long): ByteArray {
        val out = ByteArrayOutputStream()
        val buf = ByteArray(64 * 1024)
        while (true) {
            val n = input.read(buf)
            if (n < 0) return out.toByteArray()
            if (out.size() + n > max) throw TransportException.TooLarge()
            if (System.nanoTime() > deadline) throw TransportException.Timeout()
            out.write(buf, 0, n)
        }
    }
}
