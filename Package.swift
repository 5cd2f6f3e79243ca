// swift-tools-version:6.1
import PackageDescription

// CPU-specific code paths are chosen at run time (see Sources/CKernels), never with
// `unsafeFlags` here: that would stop swift-glm from being usable as a dependency.
let package = Package(
    name: "swift-glm",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "glm", targets: ["glm"]),
        .library(name: "GLM", targets: ["Weights", "Kernels", "Models", "Sampling", "Engine", "Tokenizers", "Templates", "OutputParsers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Hot loops with per-function ISA targets (AVX-512 / AVX2 / portable) and the thread pool.
        .target(name: "CKernels"),
        // safetensors parsing, memory mapping, sharded checkpoints, dtypes.
        .target(name: "Weights"),
        // The compute backend: fast paths over CKernels plus a scalar reference.
        .target(name: "Kernels", dependencies: ["CKernels", "Weights"]),
        // Model configs and architectures (one file per architecture).
        .target(name: "Models", dependencies: ["Kernels", "Weights"]),
        // Logit processing and token sampling.
        .target(name: "Sampling"),
        // Generation loops over a model: prompt in, tokens out.
        .target(name: "Engine", dependencies: ["Models", "Sampling"]),
        // Byte-level BPE tokenizers (tiktoken ranks, tokenizer.json) and streaming detokenizer.
        .target(name: "Tokenizers"),
        // A Jinja interpreter and chat-template rendering.
        .target(name: "Templates"),
        // GLM-4.5 tool-call and reasoning output parsers.
        .target(name: "OutputParsers"),
        .executableTarget(
            name: "glm",
            dependencies: [
                "Engine", "Models", "Sampling", "Tokenizers", "Templates", "OutputParsers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "WeightsTests", dependencies: ["Weights"]),
        .testTarget(name: "KernelTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModelTests", dependencies: ["Models", "Engine", "Sampling"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "TemplatesTests", dependencies: ["Templates"]),
        .testTarget(name: "OutputParsersTests", dependencies: ["OutputParsers"]),
    ],
    swiftLanguageModes: [.v5]
)
