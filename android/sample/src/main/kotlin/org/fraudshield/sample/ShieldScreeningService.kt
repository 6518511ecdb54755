package org.fraudshield.sample

import android.telecom.Call
import android.telecom.CallScreeningService
import kotlinx.coroutines.launch
import org.fraudshield.android.decision.CallDecisions
import org.fraudshield.android.decision.Language
import org.fraudshield.android.decision.ScreeningResponse
import org.fraudshield.core.Direction

/**
 * Answers each incoming call from the on-device list: a lookup of microseconds, no network
 * ever. The system allows 5 seconds; the only wait here is for the shield to finish opening
 * (bounded at 1.5 s) and any failure lets the call ring (fail open).
 */
class ShieldScreeningService : CallScreeningService() {
    override fun onScreenCall(details: Call.Details) {
        val app = application as SampleApp
        app.scope.launch {
            val response = try {
                if (details.callDirection != Call.Details.DIRECTION_INCOMING) {
                    ScreeningResponse.ALLOW
                } else {
                    val shield = app.shieldWithin(1_500)
                    val verdict = shield?.checkCallOrNull(details.handle?.schemeSpecificPart, Direction.INCOMING)
                    CallDecisions.screenIncoming(verdict, Language.of(resources.configuration.locales[0]))
                }
            } catch (t: Throwable) {
                ScreeningResponse.ALLOW
            }
            respondToCall(details, response.toCallResponse())
            response.warning?.let { Notifications.show(this@ShieldScreeningService, it) }
        }
    }

    private fun ScreeningResponse.toCallResponse(): CallResponse = CallResponse.Builder()
        .setDisallowCall(disallowCall)
        .setRejectCall(rejectCall)
        .setSilenceCall(silenceCall)
        .setSkipCallLog(skipCallLog)
        .setSkipNotification(skipNotification)
        .build()
}
