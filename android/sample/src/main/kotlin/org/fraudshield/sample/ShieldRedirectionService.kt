package org.fraudshield.sample

import android.net.Uri
import android.telecom.CallRedirectionService
import android.telecom.PhoneAccountHandle
import org.fraudshield.android.decision.CallDecisions
import org.fraudshield.android.decision.Language
import org.fraudshield.android.decision.OutgoingDecision
import org.fraudshield.core.Direction

/**
 * Warns before an outgoing call to a flagged number. The system cancels the user's call if
 * this service does not answer within 5 seconds, so it answers at once from the local list:
 * no waiting for the shield to open, no network, and every failure places the call unchanged
 * (fail open). A flagged call is cancelled and the warning offers "call anyway", which opens
 * the dialer again with the number; that second attempt goes through.
 */
class ShieldRedirectionService : CallRedirectionService() {
    override fun onPlaceCall(handle: Uri, initialPhoneAccount: PhoneAccountHandle, allowInteractiveResponse: Boolean) {
        val decision = try {
            val app = application as SampleApp
            val shield = app.openedShield
            val number = handle.schemeSpecificPart
            CallDecisions.beforeOutgoing(
                shield?.checkCallOrNull(number, Direction.OUTGOING),
                Confirmations.consume(number),
                Language.of(resources.configuration.locales[0]),
            )
        } catch (t: Throwable) {
            OutgoingDecision.Place
        }
        when (decision) {
            is OutgoingDecision.ConfirmFirst -> if (allowInteractiveResponse) {
                cancelCall()
                startActivity(OutgoingWarningActivity.intent(this, handle, decision.warning))
            } else {
                placeCallUnmodified()
            }
            OutgoingDecision.Place -> placeCallUnmodified()
        }
    }
}

/** Numbers the user chose to call anyway, for one next attempt within a minute. In memory only. */
object Confirmations {
    private const val VALID_MS = 60_000L
    private val confirmed = HashMap<String, Long>()

    @Synchronized
    fun confirm(number: String) {
        confirmed[number] = System.currentTimeMillis()
    }

    @Synchronized
    fun consume(number: String): Boolean {
        val at = confirmed.remove(number) ?: return false
        return System.currentTimeMillis() - at < VALID_MS
    }
}
