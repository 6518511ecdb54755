package org.fraudshield.sample

import android.app.Application
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.withTimeoutOrNull
import okhttp3.OkHttpClient
import org.fraudshield.android.FraudShield
import org.fraudshield.android.OkHttpTransport
import org.fraudshield.ffi.LogLevel
import org.fraudshield.ffi.Logger
import org.fraudshield.ffi.setLogger
import org.fraudshield.ffi.shieldConfig
import java.io.File
import java.util.concurrent.TimeUnit

/**
 * Opens the shield once per process, off the main thread, and schedules the periodic sync.
 * Services get it through [shieldWithin]: a short bounded wait, never a blocking open.
 */
class SampleApp : Application() {
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    lateinit var shield: Deferred<FraudShield>
        private set

    /** The shield once it is open, without waiting (for the 5-second telecom callbacks). */
    @Volatile
    var openedShield: FraudShield? = null
        private set

    /** One OkHttp client for the app; the SDK's HTTP goes through it (TLS, proxies, pinning). */
    val transport by lazy { OkHttpTransport(OkHttpClient()) }

    override fun onCreate() {
        super.onCreate()
        setLogger(LogcatLogger, if (BuildConfig.DEBUG) LogLevel.DEBUG else LogLevel.WARN)
        shield = scope.async(Dispatchers.IO) {
            val trust = assets.open("trusted_keys.txt").bufferedReader().use { it.readText() }
            val config = shieldConfig(BuildConfig.SERVER_URL, trust)
                .copy(reporterToken = BuildConfig.REPORTER_TOKEN.ifEmpty { null })
            FraudShield.open(File(filesDir, "fraudshield"), config).also { openedShield = it }
        }
        schedulePeriodicSync()
    }

    /** The shield if it opens within [millis]; `null` otherwise (callers then fail open). */
    suspend fun shieldWithin(millis: Long): FraudShield? =
        withTimeoutOrNull(millis) { runCatching { shield.await() }.getOrNull() }

    private fun schedulePeriodicSync() {
        val request = PeriodicWorkRequestBuilder<SyncWorker>(6, TimeUnit.HOURS, 1, TimeUnit.HOURS)
            .setConstraints(networkConstraints())
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 15, TimeUnit.MINUTES)
            .build()
        WorkManager.getInstance(this)
            .enqueueUniquePeriodicWork("fraudshield-sync", ExistingPeriodicWorkPolicy.KEEP, request)
    }

    /** A sync as soon as the network allows (after a report, or from the status screen). */
    fun syncSoon() {
        val request = OneTimeWorkRequestBuilder<SyncWorker>().setConstraints(networkConstraints()).build()
        WorkManager.getInstance(this).enqueueUniqueWork("fraudshield-sync-now", ExistingWorkPolicy.REPLACE, request)
    }

    private fun networkConstraints() = Constraints.Builder()
        .setRequiredNetworkType(NetworkType.CONNECTED)
        .setRequiresBatteryNotLow(true)
        .build()
}

/** The SDK's log lines go to Logcat. They never contain a number or a report's text. */
private object LogcatLogger : Logger {
    override fun log(level: LogLevel, message: String) {
        when (level) {
            LogLevel.DEBUG -> android.util.Log.d("fraudshield", message)
            LogLevel.INFO -> android.util.Log.i("fraudshield", message)
            LogLevel.WARN -> android.util.Log.w("fraudshield", message)
            LogLevel.ERROR -> android.util.Log.e("fraudshield", message)
        }
    }
}
