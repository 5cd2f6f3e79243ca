import Models

extension Scheduler {
    /// Checks the block accounting (sglang `check_memory`, made exact), for tests and
    /// `EngineOptions.checkInvariants`:
    /// - every block's reference count equals its holders: running requests' block tables plus
    ///   the prefix cache; waiting and finished requests hold nothing;
    /// - free + in use + cached = total, where the free list is exactly the unreferenced blocks and
    ///   cached blocks (unlocked prefix-cache nodes) are held by the cache alone;
    /// - blocks a request will still write to are its own, so shared blocks never change;
    /// - prefix-cache lock counts equal the running requests whose prefix passes through.
    public func checkInvariants() throws {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw InvariantViolation(description: message()) }
        }
        let total = cache.blockCount, bs = cache.blockSize
        var holders = [Int](repeating: 0, count: total)

        try check(running.count <= options.maxRunningRequests, "\(running.count) running > max \(options.maxRunningRequests)")
        var lastOrder = 0
        for r in running {
            try check(r.state == .running, "request \(r.id) in the running list is \(r.state)")
            try check(r.admissionOrder > lastOrder, "running list out of admission order at request \(r.id)")
            lastOrder = r.admissionOrder
            try check(r.kv.length < r.tokens.count, "request \(r.id) has no token left to feed")
            try check(r.kv.blocks.count >= cache.blocksNeeded(forLength: r.kv.length),
                      "request \(r.id) holds \(r.kv.blocks.count) blocks for \(r.kv.length) positions")
            try check(Set(r.kv.blocks).count == r.kv.blocks.count, "request \(r.id) lists a block twice")
            for b in r.kv.blocks { holders[Int(b)] += 1 }
            try check(live[r.id] === r, "running request \(r.id) is not live")
        }
        for r in waiting {
            try check(r.state == .waiting, "request \(r.id) in the waiting list is \(r.state)")
            try check(r.kv.blocks.isEmpty && r.kv.length == 0 && r.node == nil, "waiting request \(r.id) holds KV")
            try check(live[r.id] === r, "waiting request \(r.id) is not live")
        }
        try check(live.count == running.count + waiting.count, "\(live.count) live requests, "
                    + "\(running.count) running + \(waiting.count) waiting")
        for kv in recentlyFinished {
            try check(kv.blocks.isEmpty, "a finished request still holds blocks \(kv.blocks)")
        }
        recentlyFinished.removeAll()

        var cached = 0
        if let radix {
            var expectedLocks: [ObjectIdentifier: Int] = [:]
            for r in running {
                var node = r.node
                try check(node != nil, "running request \(r.id) holds no prefix-cache node")
                while let n = node, !n.isRoot {
                    expectedLocks[ObjectIdentifier(n), default: 0] += 1
                    node = n.parent
                }
            }
            var nodes = 0, inTree = Set<Int32>()
            var failure: String?
            radix.forEachNode { n in
                nodes += 1
                holders[Int(n.block)] += 1
                if !inTree.insert(n.block).inserted { failure = failure ?? "block \(n.block) is in two prefix-cache nodes" }
                if n.lockRef != expectedLocks[ObjectIdentifier(n), default: 0] {
                    failure = failure ?? "prefix node of block \(n.block) has lockRef \(n.lockRef), "
                        + "expected \(expectedLocks[ObjectIdentifier(n), default: 0])"
                }
                if n.key.count != bs { failure = failure ?? "prefix node of block \(n.block) has \(n.key.count) tokens" }
                if let parent = n.parent, parent.children[n.key] !== n || n.depth != parent.depth + 1 {
                    failure = failure ?? "prefix node of block \(n.block) is not linked to its parent"
                }
                if n.lockRef == 0 {
                    cached += 1
                    if cache.referenceCount(n.block) != 1 {
                        failure = failure ?? "cached block \(n.block) is unlocked but has \(cache.referenceCount(n.block)) references"
                    }
                }
            }
            if let failure { throw InvariantViolation(description: failure) }
            try check(nodes == radix.nodeCount, "prefix cache counts \(radix.nodeCount) nodes, has \(nodes)")
            try check(cached == radix.evictableCount, "prefix cache counts \(radix.evictableCount) evictable, has \(cached)")
        }

        for b in 0..<total {
            try check(cache.referenceCount(Int32(b)) == holders[b],
                      "block \(b) has \(cache.referenceCount(Int32(b))) references but \(holders[b]) holders")
        }
        let free = cache.freeBlocks
        try check(Set(free).count == free.count, "the free list has duplicates")
        for b in free { try check(holders[Int(b)] == 0, "free block \(b) has holders") }
        let inUse = holders.filter { $0 > 0 }.count - cached
        try check(free.count + inUse + cached == total,
                  "free \(free.count) + in use \(inUse) + cached \(cached) ≠ total \(total)")

        for r in running {
            // The block the next position lands in, and all after it, belong to r alone.
            for i in (r.kv.length / bs)..<r.kv.blocks.count where cache.referenceCount(r.kv.blocks[i]) != 1 {
                throw InvariantViolation(description: "request \(r.id) will write to shared block \(r.kv.blocks[i])")
            }
        }
    }
}
