package org.fraudshield.sample

import android.content.Context
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import androidx.appcompat.app.AlertDialog
import androidx.appcompat.app.AppCompatActivity
import org.fraudshield.android.decision.Warning

/**
 * The warning shown after a call to a flagged number was held back: "don't call" or "call
 * anyway" (which opens the dialer with the number; that attempt is let through once).
 */
class OutgoingWarningActivity : AppCompatActivity() {
    companion object {
        private const val TITLE = "title"
        private const val BODY = "body"

        fun intent(context: Context, handle: Uri, warning: Warning): Intent =
            Intent(context, OutgoingWarningActivity::class.java)
                .setData(handle)
                .putExtra(TITLE, warning.title)
                .putExtra(BODY, warning.body)
                .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val handle = intent.data ?: return finish()
        AlertDialog.Builder(this)
            .setTitle(intent.getStringExtra(TITLE))
            .setMessage(intent.getStringExtra(BODY))
            .setNegativeButton(R.string.cancel) { _, _ -> finish() }
            .setPositiveButton(R.string.call_anyway) { _, _ ->
                Confirmations.confirm(handle.schemeSpecificPart)
                startActivity(Intent(Intent.ACTION_DIAL, handle))
                finish()
            }
            .setOnCancelListener { finish() }
            .show()
    }
}
