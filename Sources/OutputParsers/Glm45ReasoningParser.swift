/// Incremental splitter of GLM-4.5 output into reasoning and answer (`--reasoning-parser glm45`).
///
/// Reasoning is the text of a `<think>…</think>` block at the very start of the output
/// (after optional whitespace), or from the start when the prompt itself ended inside an open
/// `<think>` (`promptEndsInThink`). It ends at `</think>`, or implicitly at `<tool_call>` (which
/// then starts the answer). An output cut off inside the block is all reasoning. With thinking
/// disabled the prompt already closed the block (`<think></think>`), the output has no tags and
/// everything is answer; an empty block yields no reasoning. Tags elsewhere are answer text.
/// Reasoning is trimmed at both ends; the answer is passed on untrimmed.
public final class Glm45ReasoningStreamParser {
    private enum State { case start, reasoning, answer }

    private static let open = StreamText.scalars("<think>")
    private static let close = StreamText.scalars("</think>")
    private static let toolCall = StreamText.scalars("<tool_call>")

    private var state: State
    private var buf = Scalars()
    private var trimmer = StreamTrimmer()

    public init(promptEndsInThink: Bool = false) {
        state = promptEndsInThink ? .reasoning : .start
    }

    /// True when `prompt` leaves a `<think>` block open for the model, e.g. GLM-4.7 templates
    /// whose generation prompt ends with `<think>`.
    public static func promptEndsInsideThink(_ prompt: String) -> Bool {
        let p = StreamText.scalars(prompt)
        var i = p.count
        while i > 0, StreamText.isSpace(p[i - 1]) { i -= 1 }
        return i >= open.count && StreamText.starts(p, with: open, at: i - open.count)
    }

    public func feed(_ text: String) -> (reasoning: String, answer: String) {
        buf.append(contentsOf: text.unicodeScalars)
        return run(final: false)
    }

    public func finish() -> (reasoning: String, answer: String) {
        run(final: true)
    }

    private func run(final: Bool) -> (reasoning: String, answer: String) {
        var reasoning = "", answer = ""
        while true {
            switch state {
            case .start:
                guard let j = buf.firstIndex(where: { !StreamText.isSpace($0) }) else {
                    if final { state = .answer; continue }
                    return (reasoning, answer)
                }
                if StreamText.starts(buf, with: Self.open, at: j) {
                    buf.removeFirst(j + Self.open.count)
                    state = .reasoning
                    continue
                }
                if !final && buf.count - j < Self.open.count && StreamText.starts(Self.open, with: Array(buf[j...])) {
                    return (reasoning, answer)
                }
                state = .answer
            case .reasoning:
                if let (i, tag) = StreamText.findFirst(buf, [Self.close, Self.toolCall]) {
                    reasoning += trimmer.feed(buf[0..<i])
                    buf.removeFirst(tag == 0 ? i + Self.close.count : i)
                    state = .answer
                    continue
                }
                let hold = final ? 0 : StreamText.partialSuffix(buf, [Self.close, Self.toolCall])
                reasoning += trimmer.feed(buf[0..<(buf.count - hold)])
                buf.removeFirst(buf.count - hold)
                return (reasoning, answer)
            case .answer:
                answer += StreamText.string(buf)
                buf.removeAll()
                return (reasoning, answer)
            }
        }
    }
}
