package org.fraudshield.sample

import android.app.NotificationChannel
import android.app.NotificationManager
import android.content.Context
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import org.fraudshield.android.decision.Warning
import org.fraudshield.core.Action

/** Posts a fraud warning (a ringing flagged call, or a call that was blocked). */
object Notifications {
    private const val CHANNEL = "fraud-warnings"

    fun show(context: Context, warning: Warning) {
        val manager = context.getSystemService(NotificationManager::class.java)
        manager.createNotificationChannel(
            NotificationChannel(CHANNEL, context.getString(R.string.channel_warnings), NotificationManager.IMPORTANCE_HIGH),
        )
        val notification = NotificationCompat.Builder(context, CHANNEL)
            .setSmallIcon(android.R.drawable.stat_sys_warning)
            .setContentTitle(warning.title)
            .setStyle(NotificationCompat.BigTextStyle().bigText(warning.body))
            .setPriority(if (warning.level == Action.BLOCK) NotificationCompat.PRIORITY_DEFAULT else NotificationCompat.PRIORITY_HIGH)
            .setCategory(NotificationCompat.CATEGORY_CALL)
            .setAutoCancel(true)
            .build()
        // Without POST_NOTIFICATIONS granted this is a no-op; the call decision stands either way.
        runCatching { NotificationManagerCompat.from(context).notify(warning.title.hashCode(), notification) }
    }
}
