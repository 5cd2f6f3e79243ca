// swift-tools-version:6.1
import PackageDescription

// libFuzzer harnesses for swift-glm's input paths (issue 19). A package of its own, so the main
// package and `swift test` are unaffected; build it with the sanitizer flags in `smoke.sh`.
//
// The library targets are symlinks to ../Sources/<Target> rather than `.package(path: "..")`: a
// product dependency on the main package's one library product (`GLM`) would build every target
// in it, the Server with Hummingbird and SwiftNIO included, instrumented and in release, which
// alone takes longer on two cores than the whole smoke run may. The harnesses use public API
// only, as a dependent package would.
let harnesses: [(name: String, dependencies: [Target.Dependency])] = [
    ("FuzzJSON", ["OrderedJSON"]),
    ("FuzzSchema", ["Constraints", "OrderedJSON"]),
    ("FuzzTemplateRender", ["Templates", "OrderedJSON"]),
    ("FuzzTemplateSource", ["Templates", "OrderedJSON"]),
    ("FuzzSafetensors", ["Weights", "OrderedJSON"]),
    ("FuzzGGUF", ["Weights", "Kernels", "Models"]),
    ("FuzzOutputParsers", ["OutputParsers", "OrderedJSON"]),
    ("FuzzRequests", ["OpenAIAPI", "OrderedJSON"]),
]

let package = Package(
    name: "swift-glm-fuzz",
    platforms: [.macOS(.v14)],
    products: harnesses.map { .executable(name: $0.name, targets: [$0.name]) },
    targets: [
        // The main package's targets (symlinked sources, same dependency graph).
        .target(name: "CKernels"),
        .target(name: "Weights"),
        .target(name: "Kernels", dependencies: ["CKernels", "Weights"]),
        .target(name: "Models", dependencies: ["Kernels", "Weights", "OrderedJSON"]),
        .target(name: "Sampling"),
        .target(name: "Engine", dependencies: ["Models", "Sampling"]),
        .target(name: "OrderedJSON"),
        .target(name: "Templates", dependencies: ["OrderedJSON"]),
        .target(name: "OutputParsers", dependencies: ["OrderedJSON"]),
        .target(name: "OpenAIAPI"),
        .target(name: "Constraints", dependencies: ["Engine", "OrderedJSON"]),
        // libFuzzer's driver entry point, and what the harnesses share.
        .target(name: "FuzzDriver"),
        .target(name: "FuzzKit", dependencies: ["FuzzDriver"]),
    ] + harnesses.map { .executableTarget(name: $0.name, dependencies: ["FuzzKit"] + $0.dependencies) },
    swiftLanguageModes: [.v5]
)
