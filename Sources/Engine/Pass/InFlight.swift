/// Runs `work` on each element of `items` (with its index), at most `width` at a time, and hands
/// each result to `take` as it arrives. Nothing more is launched once `mayLaunch` says no.
func inFlight<Item: Sendable, Output: Sendable>(
    _ items: [Item], width: Int, mayLaunch: () -> Bool,
    _ work: @escaping @Sendable (Int, Item) async -> Output,
    take: (Output) -> Void
) async {
    await withTaskGroup(of: Output.self) { group in
        var next = 0
        func launch() {
            guard next < items.count, mayLaunch() else { return }
            let index = next
            let item = items[index]
            next += 1
            group.addTask { await work(index, item) }
        }
        for _ in 0..<max(1, width) { launch() }
        while let output = await group.next() {
            take(output)
            launch()
        }
    }
}
