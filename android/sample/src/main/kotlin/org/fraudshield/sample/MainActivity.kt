package org.fraudshield.sample

import android.app.role.RoleManager
import android.content.Intent
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.lifecycleScope
import androidx.lifecycle.repeatOnLifecycle
import kotlinx.coroutines.launch
import org.fraudshield.core.Freshness
import org.fraudshield.core.ShieldStatus

/** The status screen: list state from the status Flow, and the buttons to turn protection on. */
class MainActivity : AppCompatActivity() {
    private val requestRole = registerForActivityResult(ActivityResultContracts.StartActivityForResult()) {}

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val app = application as SampleApp
        val status = TextView(this).apply { setText(R.string.status_loading) }
        val layout = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(48, 48, 48, 48)
            addView(status)
            addView(button(R.string.request_roles) { requestRoles() })
            addView(button(R.string.sync_now) { app.syncSoon() })
            addView(button(R.string.report_title) { startActivity(Intent(this@MainActivity, ReportActivity::class.java)) })
        }
        setContentView(layout)

        lifecycleScope.launch {
            val shield = app.shield.await()
            repeatOnLifecycle(Lifecycle.State.STARTED) {
                shield.refreshStatus()
                shield.status.collect { status.text = describe(it) }
            }
        }
    }

    private fun button(label: Int, onClick: () -> Unit) =
        Button(this).apply { setText(label); setOnClickListener { onClick() } }

    private fun requestRoles() {
        val roles = getSystemService(RoleManager::class.java)
        for (role in listOf(RoleManager.ROLE_CALL_SCREENING, RoleManager.ROLE_CALL_REDIRECTION)) {
            if (roles.isRoleAvailable(role) && !roles.isRoleHeld(role)) {
                requestRole.launch(roles.createRequestRoleIntent(role))
            }
        }
    }

    private fun describe(s: ShieldStatus): String = buildString {
        appendLine(if (s.degraded) "⚠ List unavailable / 名单不可用 — syncing repairs it" else "List / 名单: ${s.entries} entries, release ${s.release}")
        appendLine(
            when (val f = s.freshness) {
                is Freshness.Never -> "Never updated / 尚未更新"
                is Freshness.Fresh -> "Up to date / 已是最新"
                is Freshness.Stale -> "Out of date / 名单已过期 (release ${f.release})"
            },
        )
        appendLine("Blocked by you / 您拉黑的: ${s.userBlocked}  Allowed / 允许的: ${s.userAllowed}")
        append("Reports / 举报: ${s.reports.pending} pending, ${s.reports.sent} sent, ${s.reports.failed} failed")
    }
}
