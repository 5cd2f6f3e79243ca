import ArgumentParser

@main
struct GLM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glm",
        abstract: "Run GLM-4.5-family models (Glm4MoeForCausalLM) on the CPU.",
        subcommands: [LogitsCommand.self, GenerateCommand.self, ChatCommand.self, BenchCommand.self, TokenizeCommand.self, DetokenizeCommand.self, RenderCommand.self,
                      ServeCommand.self]
    )
}
