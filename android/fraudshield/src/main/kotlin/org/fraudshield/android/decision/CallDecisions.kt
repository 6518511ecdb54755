// What the phone does with a verdict: the call-screening answer for an incoming call and the
// decision before an outgoing one. Plain Kotlin (no Android types), so the host-JVM tests
// (scripts/kotlin-test.sh) compile and cover it; the services in the sample app only translate
// these values into CallResponse / CallRedirectionService calls.
package org.fraudshield.android.decision

import org.fraudshield.core.Action
import org.fraudshield.core.Direction
import org.fraudshield.core.Verdict

/**
 * The answer to a screened incoming call, flag for flag what
 * `android.telecom.CallScreeningService.CallResponse.Builder` takes.
 *
 * @property warning shown to the user (a notification while it rings, or after a block), if any.
 */
data class ScreeningResponse(
    val disallowCall: Boolean,
    val rejectCall: Boolean,
    val silenceCall: Boolean,
    val skipCallLog: Boolean,
    val skipNotification: Boolean,
    val warning: Warning?,
) {
    companion object {
        /** Let the call ring as usual. */
        val ALLOW = ScreeningResponse(
            disallowCall = false, rejectCall = false, silenceCall = false,
            skipCallLog = false, skipNotification = false, warning = null,
        )
    }
}

/** What to do with a call the user is placing. */
sealed class OutgoingDecision {
    /** Place the call unchanged (`placeCallUnmodified()`). */
    object Place : OutgoingDecision()

    /**
     * Cancel it for now (`cancelCall()`) and show [warning] with a "call anyway" button that
     * places it again. An outgoing call is never silently dropped: the user decides.
     */
    data class ConfirmFirst(val warning: Warning) : OutgoingDecision()
}

/** The decisions, in one place. Every path that cannot decide fails open: the call goes through. */
object CallDecisions {
    /**
     * The screening answer for an incoming call. `verdict` is `null` when no verdict could be had
     * in time (the shield is not open yet, the number is hidden or malformed, an error): the
     * call rings as usual — screening must never cost the user a legitimate call.
     *
     * A blocked call is rejected but stays in the call log (the user can review and allow it);
     * the system's missed-call notification is skipped because the app posts its own, with
     * the reason.
     */
    fun screenIncoming(verdict: Verdict?, language: Language): ScreeningResponse {
        if (verdict == null) return ScreeningResponse.ALLOW
        val warning = WarningText.forCall(verdict, Direction.INCOMING, language)
        return when (verdict.action) {
            Action.ALLOW -> ScreeningResponse.ALLOW
            Action.WARN -> ScreeningResponse.ALLOW.copy(warning = warning)
            Action.BLOCK -> ScreeningResponse(
                disallowCall = true, rejectCall = true, silenceCall = false,
                skipCallLog = false, skipNotification = true, warning = warning,
            )
        }
    }

    /**
     * The decision before an outgoing call. `verdict` is `null` when none could be had in time:
     * the call is placed (the redirection service's timeout would otherwise cancel it).
     * `confirmedByUser` is true when the user just chose "call anyway" for this number.
     */
    fun beforeOutgoing(verdict: Verdict?, confirmedByUser: Boolean, language: Language): OutgoingDecision {
        if (verdict == null || confirmedByUser || verdict.action == Action.ALLOW) return OutgoingDecision.Place
        val warning = WarningText.forCall(verdict, Direction.OUTGOING, language) ?: return OutgoingDecision.Place
        return OutgoingDecision.ConfirmFirst(warning)
    }
}
