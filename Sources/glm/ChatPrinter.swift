/// Writes what `glm chat` shows: the answer as it streams, the reasoning marked so it cannot be
/// taken for the answer, tool calls and notices on lines of their own.
///
/// `.terminal` marks with ANSI styles (reasoning dim and italic, notices cyan, tool calls
/// yellow); `.plain` (pipes, files, `NO_COLOR`) prefixes each reasoning line with `[thinking] `
/// and each notice line with `[note] `:
///
///     > What is 2+2?
///     [thinking] Two plus two equals four.
///     The answer is 4.
final class ChatPrinter {
    enum Style { case terminal, plain }

    let style: Style
    private let write: (String) -> Void
    private var inReasoning = false
    private var atLineStart = true

    private static let reset = "\u{1B}[0m"
    private static let reasoningStyle = "\u{1B}[2;3m"
    private static let noticeStyle = "\u{1B}[36m"
    private static let callStyle = "\u{1B}[33m"
    private static let promptStyle = "\u{1B}[1m"

    init(style: Style, write: @escaping (String) -> Void) {
        self.style = style
        self.write = write
    }

    /// The `> ` input prompt (input from a terminal).
    func prompt() {
        endLine()
        emit(style == .terminal ? Self.promptStyle + ">" + Self.reset + " " : "> ")
    }

    /// The user pressed Enter after the prompt: the terminal has moved to a new line.
    func inputEnded() { atLineStart = true }

    /// An input line that the terminal did not show (piped input).
    func echo(_ line: String) {
        endLine()
        emit("> " + line + "\n")
    }

    func reasoning(_ text: String) {
        guard !text.isEmpty else { return }
        if !inReasoning {
            endLine()
            inReasoning = true
            emit(style == .terminal ? Self.reasoningStyle : "[thinking] ")
        }
        emit(style == .terminal ? text : text.replacingOccurrences(of: "\n", with: "\n[thinking] "))
    }

    func content(_ text: String) {
        guard !text.isEmpty else { return }
        if inReasoning { endLine() }
        emit(text)
    }

    func toolCall(name: String, arguments: String) {
        endLine()
        emit(style == .terminal ? "\(Self.callStyle)tool call:\(Self.reset) \(name) \(arguments)\n"
                                : "tool call: \(name) \(arguments)\n")
    }

    func notice(_ text: String) {
        endLine()
        switch style {
        case .terminal: emit(Self.noticeStyle + text + Self.reset + "\n")
        case .plain: emit(text.split(separator: "\n", omittingEmptySubsequences: false).map { "[note] " + $0 }.joined(separator: "\n") + "\n")
        }
    }

    /// Ends the reasoning block and the current line, if any.
    func endLine() {
        if inReasoning {
            inReasoning = false
            if style == .terminal { emit(Self.reset) }
        }
        if !atLineStart { emit("\n") }
    }

    private func emit(_ text: String) {
        guard !text.isEmpty else { return }
        write(text)
        if text.hasSuffix(Self.reset) { return }
        if let last = text.last { atLineStart = last == "\n" }
    }
}
