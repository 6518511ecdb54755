// The warning a user reads about a flagged call, in Chinese and English. Plain Kotlin, covered
// by the host-JVM tests. The texts follow the anti-fraud centre's advice per scam type: name the
// scam, say what the real institution never does, and what to do instead (hang up, call 110
// or the 96110 anti-fraud line).
package org.fraudshield.android.decision

import org.fraudshield.core.Action
import org.fraudshield.core.Category
import org.fraudshield.core.Direction
import org.fraudshield.core.Source
import org.fraudshield.core.Verdict
import org.fraudshield.ffi.minReports
import java.util.Locale

/** The languages the warnings are written in. */
enum class Language {
    ZH,
    EN;

    companion object {
        /** Chinese for any `zh` locale, English otherwise. */
        fun of(locale: Locale): Language = if (locale.language == "zh") ZH else EN
    }
}

/**
 * A warning to show. [level] is [Action.BLOCK] for a blocked call and [Action.WARN] otherwise,
 * so the UI can pick its colour.
 */
data class Warning(val title: String, val body: String, val level: Action)

/** One text in both languages. */
private class Text(val zh: String, val en: String) {
    fun of(language: Language): String = if (language == Language.ZH) zh else en
}

object WarningText {
    /**
     * The warning for a call with this verdict, or `null` when there is nothing to warn about
     * (allowed, protected, on the user's allow list, nothing matched).
     */
    fun forCall(verdict: Verdict, direction: Direction, language: Language): Warning? {
        if (verdict.action == Action.ALLOW) return null
        val title = when (verdict.source) {
            Source.USER_BLOCK -> Text("您已拉黑此号码", "You blocked this number")
            Source.PREFIX -> Text("该号段多次被举报用于诈骗", "This number range is often used for fraud")
            Source.EXACT -> scamName(verdict.category ?: Category.OTHER)
            Source.UNALLOCATED_RANGE ->
                Text("来电号码属于未分配号段，疑似伪造", "This caller ID is from an unallocated range: likely spoofed")
            // LIST_UNAVAILABLE (a damaged list): the call is allowed; the status screen, not
            // each call, tells the user that protection is down until the next sync.
            Source.PROTECTED, Source.USER_ALLOW, Source.NONE, Source.LIST_UNAVAILABLE -> return null
        }
        val lines = mutableListOf<Text>()
        if (direction == Direction.OUTGOING) {
            lines += Text("您正在拨打一个被标记的号码。确认要继续吗？", "You are calling a flagged number. Do you want to continue?")
        }
        verdict.category?.let { lines += advice(it) }
        verdict.reports?.let { bucket ->
            val n = minReports(bucket)
            if (n > 0u) lines += Text("已有 $n 人以上举报。", "Reported by $n or more people.")
        }
        lines += Text("如有疑问，请拨打 96110 反诈专线或 110 核实。", "If in doubt, call the 96110 anti-fraud line or 110.")
        return Warning(title.of(language), lines.joinToString("\n") { it.of(language) }, verdict.action)
    }

    private fun scamName(category: Category): Text = when (category) {
        Category.POLICE_IMPERSONATION -> Text("疑似冒充公检法诈骗", "Suspected police impersonation scam")
        Category.CUSTOMER_SERVICE -> Text("疑似冒充客服诈骗", "Suspected fake customer service")
        Category.REFUND -> Text("疑似退款理赔诈骗", "Suspected refund scam")
        Category.INVESTMENT -> Text("疑似投资理财诈骗", "Suspected investment scam")
        Category.LOAN -> Text("疑似贷款诈骗", "Suspected loan scam")
        Category.ROMANCE -> Text("疑似网络交友（杀猪盘）诈骗", "Suspected romance scam")
        Category.JOB -> Text("疑似刷单兼职诈骗", "Suspected fake job or click-farming scam")
        Category.OTHER -> Text("疑似诈骗电话", "Suspected fraud call")
    }

    private fun advice(category: Category): Text = when (category) {
        Category.POLICE_IMPERSONATION -> Text(
            "公检法机关不会通过电话办案，更不会要求把钱转入“安全账户”。",
            "Police, prosecutors and courts never handle cases by phone or ask you to move money to a \"safe account\".",
        )
        Category.CUSTOMER_SERVICE -> Text(
            "正规客服不会要求您共享屏幕、开通贷款或转账。",
            "Real customer service never asks you to share your screen, take out a loan or transfer money.",
        )
        Category.REFUND -> Text(
            "退款会原路退回，无需您提供验证码或转账。",
            "Refunds go back the way you paid; nobody needs your verification code or a transfer.",
        )
        Category.INVESTMENT -> Text(
            "“内幕消息”“稳赚不赔”的投资平台都是诈骗。",
            "Platforms promising insider tips or guaranteed returns are scams.",
        )
        Category.LOAN -> Text(
            "正规贷款放款前不收取任何费用。",
            "Legitimate lenders never charge a fee before paying out a loan.",
        )
        Category.ROMANCE -> Text(
            "网上结识的“恋人”推荐投资或借钱，是诈骗的典型套路。",
            "An online partner who suggests investing or asks for money is the classic scam.",
        )
        Category.JOB -> Text(
            "刷单本身就是违法行为，所有刷单返利都是诈骗。",
            "Paid click-farming is illegal, and every such offer is a scam.",
        )
        Category.OTHER -> Text(
            "请勿透露验证码、银行卡信息，切勿转账。",
            "Never share verification codes or card details, and never transfer money.",
        )
    }
}
