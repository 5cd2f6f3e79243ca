// A prefix cache over KV blocks, after sglang `mem_cache/radix_cache.py` (TreeNode with
// lock_ref and last_access_time, match_prefix / insert / evict over LRU leaves). Keys are
// compared a whole block at a time (sglang's paged mode), so each edge is one full block of
// `blockSize` tokens; the partial last block of a sequence is never cached.
//
// The tree holds block ids, not tensors, and never touches the allocator: `insert` reports the
// blocks it adopted (the caller adds the tree's reference) and `evict` reports the blocks it
// dropped (the caller releases them). That keeps it unit-testable on its own.

/// A radix tree of token blocks → KV block ids, shared between requests.
public final class RadixCache {
    public final class Node {
        /// The `blockSize` tokens of this edge (empty at the root).
        public let key: [Int]
        /// The KV block holding those tokens' keys and values (−1 at the root).
        public let block: Int32
        /// Blocks from the root to this node, inclusive.
        public let depth: Int
        public fileprivate(set) var children: [[Int]: Node] = [:]
        public fileprivate(set) weak var parent: Node?
        /// Running sequences whose prefix passes through this node; locked nodes are not evicted.
        public fileprivate(set) var lockRef = 0
        /// Logical clock of the last match or insert through this node (for LRU eviction).
        public fileprivate(set) var lastAccess: UInt64 = 0
        /// Creation order, a deterministic tie-break for eviction.
        fileprivate let serial: Int

        fileprivate init(key: [Int], block: Int32, depth: Int, parent: Node?, serial: Int) {
            self.key = key
            self.block = block
            self.depth = depth
            self.parent = parent
            self.serial = serial
        }

        public var isRoot: Bool { depth == 0 }
        /// Tokens from the root to this node.
        public func tokenCount(blockSize: Int) -> Int { depth * blockSize }
    }

    public let blockSize: Int
    public let root: Node
    /// Cached blocks (nodes other than the root).
    public private(set) var nodeCount = 0
    /// Nodes with no lock: the blocks eviction could free.
    public private(set) var evictableCount = 0
    private var clock: UInt64 = 0
    private var serials = 0

    public init(blockSize: Int) {
        precondition(blockSize > 0)
        self.blockSize = blockSize
        root = Node(key: [], block: -1, depth: 0, parent: nil, serial: 0)
    }

    // MARK: - Public API

    /// The longest cached prefix of `tokens` in whole blocks: its deepest node and block ids.
    /// Marks the path as just used.
    public func match(_ tokens: ArraySlice<Int>) -> (node: Node, blocks: [Int32]) {
        clock += 1
        var node = root, blocks: [Int32] = []
        var start = tokens.startIndex
        while start + blockSize <= tokens.endIndex, let child = node.children[Array(tokens[start..<start + blockSize])] {
            node = child
            node.lastAccess = clock
            blocks.append(child.block)
            start += blockSize
        }
        return (node, blocks)
    }

    /// Inserts the full blocks of `tokens` (block i holds tokens[i·blockSize ..< (i+1)·blockSize]
    /// in `blocks[i]`), starting below `node`, which must already cover the first `node.depth`
    /// blocks. Where a block's tokens are already cached, the cached node is kept and the
    /// caller's block stays the caller's. Returns the deepest node and the blocks the tree
    /// adopted (the caller owes the tree one reference for each).
    public func insert(_ tokens: ArraySlice<Int>, blocks: ArraySlice<Int32>, below start: Node? = nil)
        -> (node: Node, adopted: [Int32]) {
        let fullBlocks = min(tokens.count / blockSize, blocks.count)
        var node = start ?? root
        clock += 1
        var adopted: [Int32] = []
        var i = node.depth
        while i < fullBlocks {
            let lower = tokens.startIndex + i * blockSize
            let key = Array(tokens[lower..<lower + blockSize])
            if let child = node.children[key] {
                node = child
            } else {
                serials += 1
                let block = blocks[blocks.startIndex + i]
                let child = Node(key: key, block: block, depth: i + 1, parent: node, serial: serials)
                node.children[key] = child
                nodeCount += 1
                evictableCount += 1
                adopted.append(block)
                node = child
            }
            node.lastAccess = clock
            i += 1
        }
        return (node, adopted)
    }

    /// Protects `node` and its ancestors from eviction while a sequence uses them.
    public func lock(_ node: Node) {
        var current: Node? = node
        while let n = current, !n.isRoot {
            if n.lockRef == 0 { evictableCount -= 1 }
            n.lockRef += 1
            current = n.parent
        }
    }

    public func unlock(_ node: Node) {
        var current: Node? = node
        while let n = current, !n.isRoot {
            precondition(n.lockRef > 0, "unlocking an unlocked radix node")
            n.lockRef -= 1
            if n.lockRef == 0 { evictableCount += 1 }
            current = n.parent
        }
    }

    /// How many nodes on the path from the root to `node` are unlocked (locking `node` would
    /// take them out of the evictable set).
    public func unlockedNodes(onPathTo node: Node) -> Int {
        var count = 0, current: Node? = node
        while let n = current, !n.isRoot {
            if n.lockRef == 0 { count += 1 }
            current = n.parent
        }
        return count
    }

    /// Removes up to `count` unlocked leaves, least recently used first (a parent whose last
    /// child goes becomes a leaf in turn). Returns the removed nodes' blocks.
    public func evict(_ count: Int) -> [Int32] {
        guard count > 0, evictableCount > 0 else { return [] }
        var heap = LeafHeap()
        forEachNode { if $0.children.isEmpty && $0.lockRef == 0 { heap.push($0) } }
        var evicted: [Int32] = []
        while evicted.count < count, let leaf = heap.pop() {
            guard let parent = leaf.parent else { continue }
            parent.children[leaf.key] = nil
            leaf.parent = nil
            nodeCount -= 1
            evictableCount -= 1
            evicted.append(leaf.block)
            if !parent.isRoot && parent.children.isEmpty && parent.lockRef == 0 { heap.push(parent) }
        }
        return evicted
    }

    /// Visits every node except the root, parents before children.
    public func forEachNode(_ body: (Node) -> Void) {
        var stack = Array(root.children.values)
        while let node = stack.popLast() {
            body(node)
            stack.append(contentsOf: node.children.values)
        }
    }

    /// Every cached block id.
    public var allBlocks: [Int32] {
        var blocks: [Int32] = []
        forEachNode { blocks.append($0.block) }
        return blocks
    }
}

/// A binary min-heap of nodes by (lastAccess, serial).
private struct LeafHeap {
    private var items: [RadixCache.Node] = []

    private static func less(_ a: RadixCache.Node, _ b: RadixCache.Node) -> Bool {
        a.lastAccess != b.lastAccess ? a.lastAccess < b.lastAccess : a.serial < b.serial
    }

    mutating func push(_ node: RadixCache.Node) {
        items.append(node)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> RadixCache.Node? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count && Self.less(items[l], items[smallest]) { smallest = l }
            if r < items.count && Self.less(items[r], items[smallest]) { smallest = r }
            guard smallest != i else { break }
            items.swapAt(i, smallest)
            i = smallest
        }
        return top
    }
}
