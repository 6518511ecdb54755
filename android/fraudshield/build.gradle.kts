// The library module: the uniffi-generated Kotlin (org.fraudshield.core / org.fraudshield.ffi),
// libfraudshield_ffi.so for each ABI (cargo-ndk, `mobile` profile), JNA, and the idiomatic
// layer in src/main/kotlin (FraudShield, OkHttpTransport, the call decisions).
import java.io.File

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val repoRoot: File = rootDir.parentFile
val generatedKotlin = File(repoRoot, "target/bindings/kotlin")
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")
val abis = (findProperty("fraudshield.abis") as String).split(",").map { it.trim() }

android {
    namespace = "org.fraudshield.android"
    compileSdk = 35

    defaultConfig {
        // CallRedirectionService and the call-screening role need API 29.
        minSdk = 29
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].apply {
        kotlin.srcDir(generatedKotlin)
        jniLibs.srcDir(rustJniLibs)
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions {
        jvmTarget = "17"
    }
}

dependencies {
    // The bindings call the library through JNA; the aar carries libjnidispatch per ABI.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    implementation("com.squareup.okhttp3:okhttp:4.12.0")
}

// Kotlin bindings: generated from the host build of the library (the interface is the same on
// every target). Needs only cargo; see ../README.md.
val generateBindings by tasks.registering(Exec::class) {
    workingDir = repoRoot
    commandLine("./scripts/bindings.sh", "--no-size")
    outputs.dir(generatedKotlin)
}

// Native libraries: one `cargo ndk` build per ABI in the `mobile` profile (size first, unwinding
// kept so a Rust panic becomes a Kotlin exception). AGP strips the symbols when packaging.
val cargoNdk by tasks.registering(Exec::class) {
    workingDir = repoRoot
    val args = mutableListOf("cargo", "ndk", "--platform", "29", "-o", rustJniLibs.get().asFile.path)
    abis.forEach { args += listOf("-t", it) }
    args += listOf("build", "--locked", "-p", "fraudshield-ffi", "--profile", "mobile")
    commandLine(args)
    // The bundled SQLite without the parts the store never uses (see ../../scripts/bindings.sh).
    environment("LIBSQLITE3_FLAGS", File(repoRoot, "ffi/mobile-sqlite.flags").readText().trim())
    // All C code at -Oz without unwind tables (see ../../scripts/bindings.sh).
    environment("CFLAGS", File(repoRoot, "ffi/mobile-c.flags").readText().trim())
    outputs.dir(rustJniLibs)
}

tasks.named("preBuild") {
    dependsOn(generateBindings, cargoNdk)
}
