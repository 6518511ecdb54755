// The Android module's decision logic (android/fraudshield/.../decision), compiled here with
// the bindings and covered on the host JVM: verdict -> call response, and the warning texts.
package org.fraudshield.test

import org.fraudshield.android.decision.CallDecisions
import org.fraudshield.android.decision.Language
import org.fraudshield.android.decision.OutgoingDecision
import org.fraudshield.android.decision.ScreeningResponse
import org.fraudshield.android.decision.WarningText
import org.fraudshield.core.Action
import org.fraudshield.core.Category
import org.fraudshield.core.Direction
import org.fraudshield.core.Risk
import org.fraudshield.core.Source
import org.fraudshield.core.Verdict
import java.util.Locale

private fun verdict(action: Action, source: Source, category: Category? = null, reports: UByte? = null) =
    Verdict(action, source, category, if (category != null) Risk.HIGH else null, reports, 7uL)

fun decisionTests() = Harness.suite("android decisions") {
    Harness.test("no verdict in time: the incoming call rings and the outgoing call is placed (fail open)") {
        expectEq(ScreeningResponse.ALLOW, CallDecisions.screenIncoming(null, Language.ZH), "incoming")
        expectEq(OutgoingDecision.Place, CallDecisions.beforeOutgoing(null, false, Language.ZH), "outgoing")
    }

    Harness.test("block: rejected, kept in the call log, the app's own notification says why") {
        val r = CallDecisions.screenIncoming(verdict(Action.BLOCK, Source.EXACT, Category.POLICE_IMPERSONATION, 4u), Language.ZH)
        expect(r.disallowCall && r.rejectCall && r.skipNotification && !r.skipCallLog && !r.silenceCall) { "$r" }
        val w = r.warning ?: throw AssertionFailed("no warning")
        expectEq("疑似冒充公检法诈骗", w.title, "title")
        expect(w.body.contains("安全账户") && w.body.contains("96110")) { w.body }
        expect(w.body.contains("已有 10 人以上举报")) { "report count: ${w.body}" }
        expectEq(Action.BLOCK, w.level, "level")
    }

    Harness.test("warn: the call rings with a warning; allow: nothing") {
        val r = CallDecisions.screenIncoming(verdict(Action.WARN, Source.PREFIX, Category.LOAN), Language.EN)
        expect(!r.disallowCall && !r.rejectCall && r.warning != null) { "$r" }
        expectEq("This number range is often used for fraud", r.warning?.title, "title")
        expectEq(ScreeningResponse.ALLOW, CallDecisions.screenIncoming(verdict(Action.ALLOW, Source.NONE), Language.EN), "allow")
        expectEq(ScreeningResponse.ALLOW, CallDecisions.screenIncoming(verdict(Action.ALLOW, Source.PROTECTED), Language.ZH), "protected")
        expectEq(ScreeningResponse.ALLOW, CallDecisions.screenIncoming(verdict(Action.ALLOW, Source.LIST_UNAVAILABLE), Language.ZH), "list unavailable: fail open")
    }

    Harness.test("outgoing to a flagged number: confirm first, unless the user just confirmed") {
        val v = verdict(Action.WARN, Source.EXACT, Category.INVESTMENT)
        val d = CallDecisions.beforeOutgoing(v, false, Language.ZH)
        expect(d is OutgoingDecision.ConfirmFirst && d.warning.body.startsWith("您正在拨打一个被标记的号码")) { "$d" }
        expectEq(OutgoingDecision.Place, CallDecisions.beforeOutgoing(v, true, Language.ZH), "confirmed")
        expectEq(OutgoingDecision.Place, CallDecisions.beforeOutgoing(verdict(Action.ALLOW, Source.NONE), false, Language.ZH), "clean")
    }

    Harness.test("every category and source has a text in both languages; Chinese for zh locales") {
        for (lang in Language.values()) {
            val titles = Category.values().map { c ->
                val w = WarningText.forCall(verdict(Action.WARN, Source.EXACT, c), Direction.INCOMING, lang)
                    ?: throw AssertionFailed("no warning for $c")
                expect(w.body.isNotBlank()) { "empty body for $c" }
                if (lang == Language.ZH) expect(w.title.any { it.code in 0x4e00..0x9fff }) { "not Chinese: ${w.title}" }
                w.title
            }
            expectEq(titles.size, titles.toSet().size, "distinct titles in $lang")
            for (s in listOf(Source.USER_BLOCK, Source.UNALLOCATED_RANGE)) {
                expect(WarningText.forCall(verdict(Action.WARN, s), Direction.INCOMING, lang) != null) { "no text for $s" }
            }
        }
        expectEq(Language.ZH, Language.of(Locale.SIMPLIFIED_CHINESE), "zh-CN")
        expectEq(Language.ZH, Language.of(Locale.TRADITIONAL_CHINESE), "zh-TW")
        expectEq(Language.EN, Language.of(Locale.GERMANY), "de-DE")
    }

    Harness.test("end to end: a listed caller's real verdict becomes a rejected call") {
        Fixtures.openImported("decision").use { shield ->
            val r = CallDecisions.screenIncoming(shield.checkCall("+86 138 0013 8000", Direction.INCOMING), Language.EN)
            expect(r.rejectCall) { "$r" }
            val d = CallDecisions.beforeOutgoing(shield.checkCall("13800138000", Direction.OUTGOING), false, Language.EN)
            expect(d is OutgoingDecision.ConfirmFirst) { "$d" }
        }
    }
}
