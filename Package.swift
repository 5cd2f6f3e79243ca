// swift-tools-version:6.1
import PackageDescription

// CPU-specific code paths are chosen at run time (see Sources/CKernels), never with
// `unsafeFlags` here: that would stop swift-glm from being usable as a dependency.
let package = Package(
    name: "swift-glm",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "glm", targets: ["glm"]),
        .library(name: "GLM", targets: ["Weights", "Kernels", "Models", "Sampling", "Engine", "Tokenizers", "Templates", "OutputParsers",
                                        "OpenAIAPI", "Constraints", "Server", "DemoModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Hot loops with per-function ISA targets (AVX-512 / AVX2 / portable) and the thread pool.
        .target(name: "CKernels"),
        // safetensors parsing, memory mapping, sharded checkpoints, dtypes.
        .target(name: "Weights"),
        // The compute backend: fast paths over CKernels plus a scalar reference.
        .target(name: "Kernels", dependencies: ["CKernels", "Weights"]),
        // Model configs and architectures (one file per architecture).
        .target(name: "Models", dependencies: ["Kernels", "Weights", "OrderedJSON"]),
        // Logit processing and token sampling.
        .target(name: "Sampling"),
        // Generation loops over a model: prompt in, tokens out.
        .target(name: "Engine", dependencies: ["Models", "Sampling"]),
        // Order-preserving JSON values, one parser, and Python's `json.dumps` formatting.
        .target(name: "OrderedJSON"),
        // Byte-level BPE tokenizers (tiktoken ranks, tokenizer.json) and streaming detokenizer.
        .target(name: "Tokenizers", dependencies: ["OrderedJSON"]),
        // A Jinja interpreter and chat-template rendering.
        .target(name: "Templates", dependencies: ["OrderedJSON"]),
        // GLM-4.5 tool-call and reasoning output parsers.
        .target(name: "OutputParsers", dependencies: ["OrderedJSON"]),
        // OpenAI-compatible request/response DTOs and error JSON (pure Codable, no server import).
        .target(name: "OpenAIAPI"),
        // Per-request logit processors: penalties, logit bias, tool-call constrained decoding.
        .target(name: "Constraints", dependencies: ["Engine", "OrderedJSON"]),
        // `glm serve`: the Hummingbird app (routes, SSE, errors, metrics) over an InferenceEngine.
        .target(
            name: "Server",
            dependencies: [
                "Engine", "Models", "Kernels", "Sampling", "Tokenizers", "Templates", "OutputParsers", "OpenAIAPI",
                "Constraints", "OrderedJSON", "Weights",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The embedded glm-4.5-demo checkpoint (a resource folder) and where to find it at run time.
        .target(name: "DemoModel", resources: [.copy("glm-4.5-demo")]),
        .executableTarget(
            name: "glm",
            dependencies: [
                "Engine", "Models", "Sampling", "Tokenizers", "Templates", "OutputParsers", "Server", "DemoModel", "OrderedJSON",
                "Weights",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "WeightsTests", dependencies: ["Weights"]),
        .testTarget(name: "KernelTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModelTests", dependencies: ["Models", "Engine", "Sampling"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Models", "Sampling"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"]),
        .testTarget(name: "OrderedJSONTests", dependencies: ["OrderedJSON"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "TemplatesTests", dependencies: ["Templates", "OrderedJSON"]),
        .testTarget(name: "OutputParsersTests", dependencies: ["OutputParsers", "OrderedJSON"]),
        .testTarget(name: "DemoModelTests", dependencies: ["DemoModel"]),
        // `glm`'s own logic (the chat session), through `@testable import glm`.
        .testTarget(name: "GLMCommandTests", dependencies: ["glm", "DemoModel", "Models", "Kernels", "Sampling", "Templates", "OrderedJSON"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "OpenAIAPI", "Constraints", "Engine", "Models", "Sampling", "Tokenizers", "Templates",
                "OutputParsers", "OrderedJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
