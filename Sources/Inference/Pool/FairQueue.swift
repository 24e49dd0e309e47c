/// The pool's one waiting line, shared by its workers: a queue per agent and per priority tier, and a
/// virtual token counter per agent (Sheng et al., OSDI'24, "Fairness in Serving Large Language
/// Models": the Virtual Token Counter scheduler).
///
/// Each agent's counter advances by the service it receives, `prefillTokenCost` per prompt token and
/// `decodeTokenCost` per generated token, divided by the agent's weight; the next request comes from
/// the waiting agent with the smallest counter, so under contention agents get tokens in proportion to
/// their weights whatever their request rates. An agent that becomes backlogged is lifted to the
/// smallest counter of the backlogged agents (the paper's rule: idle time is not banked as credit).
/// Tiers come first: every waiting interactive request runs before any batch one. Not thread-safe:
/// the pool's lock guards it.
struct FairQueue {
    /// One agent's waiting requests (per tier) and service counter.
    struct Agent {
        var waiting: [[PoolJob]] = Array(repeating: [], count: PoolPriority.allCases.count)
        var counter: Double = 0
        var weight: Double = 1
        var waitingCount: Int { waiting.reduce(0) { $0 + $1.count } }
    }

    /// Why a request was refused.
    enum Refusal: Equatable {
        case agentFull(queued: Int)
        case totalFull(queued: Int)
    }

    let maxQueuedPerAgent: Int
    let maxQueuedTotal: Int
    let prefillTokenCost: Double
    let decodeTokenCost: Double
    private(set) var agents: [String: Agent] = [:]
    /// Requests waiting, all agents and tiers.
    private(set) var count = 0
    /// The counter of the agent served last: where a newly backlogged agent starts when nobody waits.
    private var lastServedCounter: Double = 0

    init(configuration: PoolConfiguration) {
        maxQueuedPerAgent = configuration.maxQueuedPerAgent
        maxQueuedTotal = configuration.maxQueuedTotal
        prefillTokenCost = configuration.prefillTokenCost
        decodeTokenCost = configuration.decodeTokenCost
    }

    var isEmpty: Bool { count == 0 }

    /// Why a new request of `agent` cannot wait now, or nil when it can.
    func refusal(for agent: String) -> Refusal? {
        let mine = agents[agent]?.waitingCount ?? 0
        if mine >= maxQueuedPerAgent { return .agentFull(queued: mine) }
        if count >= maxQueuedTotal { return .totalFull(queued: count) }
        return nil
    }

    /// Adds `job` at the back of its agent's tier, or at the front for a preempted job resuming.
    mutating func enqueue(_ job: PoolJob, atFront: Bool = false) {
        let name = job.request.agent
        var agent = agents[name] ?? Agent()
        if agent.waitingCount == 0 {
            // Becoming backlogged: no credit for the time spent idle.
            agent.counter = max(agent.counter, minimumBackloggedCounter() ?? lastServedCounter)
        }
        agent.weight = job.request.weight
        let tier = job.request.priority.rawValue
        if atFront { agent.waiting[tier].insert(job, at: 0) } else { agent.waiting[tier].append(job) }
        agents[name] = agent
        count += 1
        if agents.count > 256 && agents.count > 4 * count { pruneIdleAgents() }
    }

    /// The tier and agent the next dequeue serves: the first tier with any waiting, the smallest
    /// counter within it (ties to the name that sorts first, so the order is reproducible). Only
    /// agents whose first waiting job passes `eligible` count (a worker on a GPU the job's policy
    /// excludes skips that agent and serves the next one).
    private func nextChoice(_ eligible: (PoolJob) -> Bool) -> (tier: Int, name: String)? {
        for tier in PoolPriority.allCases.map(\.rawValue) {
            var best: (name: String, counter: Double)?
            for (name, agent) in agents {
                guard let first = agent.waiting[tier].first, eligible(first) else { continue }
                if let current = best, current.counter < agent.counter
                    || (current.counter == agent.counter && current.name < name) { continue }
                best = (name, agent.counter)
            }
            if let best { return (tier, best.name) }
        }
        return nil
    }

    /// The job the next `dequeue` with the same `eligible` returns, left in place.
    func peek(where eligible: (PoolJob) -> Bool = { _ in true }) -> PoolJob? {
        guard let choice = nextChoice(eligible) else { return nil }
        return agents[choice.name]?.waiting[choice.tier].first
    }

    /// Takes the next request to run (among agents whose first job is `eligible`); its prompt is
    /// charged to the agent the first time it is taken.
    mutating func dequeue(where eligible: (PoolJob) -> Bool = { _ in true }) -> PoolJob? {
        guard let choice = nextChoice(eligible), var agent = agents[choice.name],
              !agent.waiting[choice.tier].isEmpty else { return nil }
        let job = agent.waiting[choice.tier].removeFirst()
        count -= 1
        if !job.charged {
            job.charged = true
            agent.counter += prefillTokenCost * Double(job.request.generation.prompt.count) / agent.weight
        }
        lastServedCounter = agent.counter
        agents[choice.name] = agent
        return job
    }

    /// Advances `agent`'s counter for `generated` tokens just produced.
    mutating func chargeDecode(agent name: String, generated: Int) {
        guard var agent = agents[name] else { return }
        agent.counter += decodeTokenCost * Double(generated) / agent.weight
        agents[name] = agent
    }

    /// Removes and returns every waiting job for which `predicate` holds.
    mutating func removeAll(where predicate: (PoolJob) -> Bool) -> [PoolJob] {
        var removed: [PoolJob] = []
        for name in Array(agents.keys) {
            guard var agent = agents[name] else { continue }
            for tier in agent.waiting.indices where agent.waiting[tier].contains(where: predicate) {
                removed += agent.waiting[tier].filter(predicate)
                agent.waiting[tier].removeAll(where: predicate)
            }
            agents[name] = agent
        }
        count -= removed.count
        return removed
    }

    /// Jobs waiting per agent.
    var depthByAgent: [String: Int] {
        agents.compactMapValues { $0.waitingCount > 0 ? $0.waitingCount : nil }
    }

    /// When the longest-waiting job entered the queue.
    var oldestEnqueued: ContinuousClock.Instant? {
        var oldest: ContinuousClock.Instant?
        for agent in agents.values {
            for tier in agent.waiting {
                guard let first = tier.first else { continue }
                oldest = min(oldest ?? first.enqueued, first.enqueued)
            }
        }
        return oldest
    }

    /// The earliest deadline among waiting jobs.
    var earliestDeadline: ContinuousClock.Instant? {
        var earliest: ContinuousClock.Instant?
        for agent in agents.values {
            for tier in agent.waiting {
                for job in tier {
                    guard let deadline = job.request.deadline else { continue }
                    earliest = min(earliest ?? deadline, deadline)
                }
            }
        }
        return earliest
    }

    /// `agent`'s virtual token counter (tests and metrics).
    func counter(of agent: String) -> Double? { agents[agent]?.counter }

    private func minimumBackloggedCounter() -> Double? {
        agents.values.filter { $0.waitingCount > 0 }.map(\.counter).min()
    }

    /// Forgets agents with nothing waiting whose counter is at or below the backlogged minimum: the
    /// lift rule would give them that counter back anyway, so nothing is lost.
    private mutating func pruneIdleAgents() {
        let floor = minimumBackloggedCounter() ?? lastServedCounter
        agents = agents.filter { $0.value.waitingCount > 0 || $0.value.counter > floor }
    }
}
