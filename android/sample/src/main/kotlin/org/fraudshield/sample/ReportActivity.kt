package org.fraudshield.sample

import android.os.Bundle
import android.text.InputType
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.Spinner
import android.widget.TextView
import android.widget.Toast
import androidx.appcompat.app.AppCompatActivity
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.launch
import org.fraudshield.core.Category
import org.fraudshield.core.CitizenReport
import org.fraudshield.core.Kind
import org.fraudshield.core.ShieldException

/**
 * Report a number or account: saved durably in the outbox at once (works offline) and sent
 * with the next sync, which is requested right away under the network constraint.
 */
class ReportActivity : AppCompatActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val app = application as SampleApp
        val kind = Spinner(this).apply {
            adapter = ArrayAdapter(this@ReportActivity, android.R.layout.simple_spinner_dropdown_item, Kind.values())
        }
        val value = EditText(this).apply { setHint(R.string.report_value); inputType = InputType.TYPE_CLASS_TEXT }
        val category = Spinner(this).apply {
            adapter = ArrayAdapter(this@ReportActivity, android.R.layout.simple_spinner_dropdown_item, Category.values())
        }
        val text = EditText(this).apply { setHint(R.string.report_text); minLines = 3 }
        val contact = EditText(this).apply { setHint(R.string.report_contact) }
        val send = Button(this).apply { setText(R.string.report_send) }
        setContentView(
            LinearLayout(this).apply {
                orientation = LinearLayout.VERTICAL
                setPadding(48, 48, 48, 48)
                addView(TextView(this@ReportActivity).apply { setText(R.string.report_kind) })
                listOf(kind, value, category, text, contact, send).forEach { addView(it) }
            },
        )

        send.setOnClickListener {
            val report = CitizenReport(
                kind = kind.selectedItem as Kind,
                value = value.text.toString(),
                category = category.selectedItem as Category,
                text = text.text.toString(),
                contact = contact.text.toString().ifBlank { null },
            )
            lifecycleScope.launch {
                try {
                    app.shield.await().queueReport(report)
                    app.syncSoon()
                    Toast.makeText(this@ReportActivity, R.string.report_queued, Toast.LENGTH_LONG).show()
                    finish()
                } catch (e: ShieldException.InvalidInput) {
                    // The reason says what is wrong (never repeats the value): show it as is.
                    value.error = e.reason
                } catch (e: ShieldException) {
                    Toast.makeText(this@ReportActivity, e.message, Toast.LENGTH_LONG).show()
                }
            }
        }
    }
}
