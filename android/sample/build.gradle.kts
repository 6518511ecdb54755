plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.fraudshield.sample"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.fraudshield.sample"
        minSdk = 29
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // Where the list comes from and where reports go. Override in ~/.gradle/gradle.properties
        // or with -P; the trust file is src/main/assets/trusted_keys.txt (see ../README.md).
        buildConfigField("String", "SERVER_URL", "\"${findProperty("fraudshield.serverUrl") ?: "https://lists.example.org/cn/"}\"")
        buildConfigField("String", "REPORTER_TOKEN", "\"${findProperty("fraudshield.reporterToken") ?: ""}\"")
    }

    buildFeatures {
        buildConfig = true
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
    implementation(project(":fraudshield"))
    implementation("androidx.core:core-ktx:1.15.0")
    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.activity:activity-ktx:1.9.3")
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.8.7")
    implementation("androidx.work:work-runtime-ktx:2.10.0")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    implementation("com.squareup.okhttp3:okhttp:4.12.0")
}
