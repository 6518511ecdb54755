// The Android side of fraudshield: `:fraudshield` (the library an app adds: generated bindings,
// native libraries per ABI, idiomatic Kotlin, the call decisions) and `:sample` (an app with
// call screening, outgoing-call warnings, periodic sync and a report screen).
// See README.md for the commands; the Rust side is built by the library's Gradle tasks.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "fraudshield-android"
include(":fraudshield", ":sample")
