// Shared fixtures: temporary state directories, a trust file, a list imported with the real
// `fraudshield` CLI, and the paths the test script passes in.
package org.fraudshield.test

import org.fraudshield.core.ShieldConfig
import org.fraudshield.ffi.Shield
import org.fraudshield.ffi.shieldConfig
import java.io.File
import java.nio.file.Files
import java.security.MessageDigest
import java.security.SecureRandom
import java.util.Base64
import java.util.concurrent.TimeUnit

object Fixtures {
    /** The real CLI binary (scripts/kotlin-test.sh passes `-Dfraudshield.cli`). */
    val cli: String = System.getProperty("fraudshield.cli") ?: "target/debug/fraudshield"

    /** The real sync server binary (`-Dfraudshield.server`); absent until it is built. */
    val server: String = System.getProperty("fraudshield.server") ?: "target/debug/fraudshield-server"

    private val dirs = mutableListOf<File>()

    fun tempDir(name: String): File {
        val d = Files.createTempDirectory("fraudshield-kt-$name-").toFile()
        dirs.add(d)
        return d
    }

    fun cleanUp() = dirs.forEach { it.deleteRecursively() }

    /**
     * A syntactically valid trust file pinning a random public key: enough to open a shield
     * that is never synced (sync tests use the server's own trust file).
     */
    fun trustFile(): String {
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val id = MessageDigest.getInstance("SHA-256").digest(key).take(8)
            .joinToString("") { "%02x".format(it) }
        return "# test key\ned25519 $id ${Base64.getEncoder().encodeToString(key)}\nthreshold 1\n"
    }

    fun config(): ShieldConfig = shieldConfig("https://lists.invalid/cn/", trustFile())

    /** The CSV every lookup test uses (the CLI's import format). */
    const val LIST_CSV = """kind,value,category,risk,reports
phone,+86 138 0013 8000,police_impersonation,high,12
phone,+86 139 0000 1111,investment,medium,3
phone,+86 137 0000 2222,loan,low,1
phone,+86 170*,loan,high,
phone,+86 171*,job,low,
bank,6222 0212 3456 7890 123,customer_service,high,40
qq,87654321,refund,medium,7
alipay,2088123412341234,romance,high,200
alipay,Fraud@Example.com,job,low,
"""

    /** Runs the real CLI; fails on a non-zero exit. Bounded wait. */
    fun runCli(vararg args: String) {
        val p = ProcessBuilder(listOf(cli) + args).redirectErrorStream(true).start()
        val output = p.inputStream.bufferedReader().readText()
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly()
            throw AssertionFailed("fraudshield ${args.first()} did not finish")
        }
        if (p.exitValue() != 0) throw AssertionFailed("fraudshield ${args.joinToString(" ")}: $output")
    }

    /** A state directory holding LIST_CSV as list version 1, imported by the real CLI. */
    fun importedDir(name: String): File {
        val dir = tempDir(name)
        val csv = File(dir.parentFile, "${dir.name}.csv").also { it.writeText(LIST_CSV) }
        try {
            runCli("--dir", dir.path, "import", csv.path)
        } finally {
            csv.delete()
        }
        return dir
    }

    fun openImported(name: String): Shield = Shield.open(importedDir(name).path, config())
}
