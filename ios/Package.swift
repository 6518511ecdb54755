// swift-tools-version:5.9
// The fraudshield SDK for iOS: the Rust library as an XCFramework (static, device + simulator)
// and one Swift module, `FraudShield`, holding the uniffi-generated Swift and a small wrapper.
// Build the XCFramework and the generated sources first: ./build-xcframework.sh (see README.md).
import PackageDescription

let package = Package(
    name: "FraudShield",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "FraudShield", targets: ["FraudShield"]),
    ],
    targets: [
        // libfraudshield_ffi.a per platform, with the C headers of both uniffi components
        // (fraudshield_coreFFI, fraudshield_ffiFFI) and one module map declaring both.
        .binaryTarget(name: "FraudShieldFFI", path: "build/FraudShieldFFI.xcframework"),
        // Generated/FraudShieldCore.swift + Generated/FraudShieldFFI.swift (written by
        // build-xcframework.sh, not committed) and the hand-written wrapper.
        .target(
            name: "FraudShield",
            dependencies: ["FraudShieldFFI"],
            path: "Sources/FraudShield"
        ),
    ]
)
