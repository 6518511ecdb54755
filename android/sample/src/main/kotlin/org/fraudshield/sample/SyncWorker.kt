package org.fraudshield.sample

import android.content.Context
import androidx.work.CoroutineWorker
import androidx.work.WorkerParameters
import org.fraudshield.core.ShieldException

/**
 * Sends the queued reports and updates the list. Runs under WorkManager's network constraint;
 * the SDK verifies everything before the new list serves a lookup.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val app = applicationContext as SampleApp
        val shield = app.shieldWithin(30_000) ?: return Result.retry()
        return try {
            shield.sync(app.transport)
            Result.success()
        } catch (e: ShieldException.Backoff) {
            // The server asked to wait; the SDK refuses earlier requests itself, and the next
            // periodic run comes after the backoff in practice.
            Result.success()
        } catch (e: ShieldException.Network) {
            Result.retry()
        } catch (e: ShieldException.Storage) {
            Result.retry()
        } catch (e: ShieldException) {
            // VerificationFailed (a refused update), Degraded, InvalidInput: retrying at once
            // does not help; the status screen shows it and the next periodic run tries again.
            Result.failure()
        }
    }
}
