using System.Collections.Concurrent;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// Makes the emulator misbehave on purpose, and records what it received. Faults are armed for the next N requests
/// matching an optional path substring (ordinal, on the decoded path, e.g. "/jobs/deploy/builds") and an optional
/// method; the first armed fault that matches wins. Faults never apply to the /_emulator/ control routes.
/// </summary>
public sealed class FaultInjector
{
    private readonly TokenStore _tokens;
    private readonly TimeProvider _clock;
    private readonly int _logCapacity;
    private readonly object _rulesGate = new();
    private readonly List<FaultRule> _rules = [];
    // Read without the lock on every request: the common case (nothing armed) costs no lock at all.
    private volatile int _armedRules;
    private readonly ConcurrentQueue<RequestLogEntry> _log = new();
    private int _logCount;

    internal FaultInjector(TokenStore tokens, TimeProvider clock, int logCapacity)
    {
        _tokens = tokens;
        _clock = clock;
        _logCapacity = Math.Max(1, logCapacity);
    }

    /// <summary>Answer <paramref name="statusCode"/> without doing anything (a 500's body never looks like the stale-config one).</summary>
    public void FailNext(int count, int statusCode, string? pathContains = null, string? method = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        Arm(new FaultRule(FaultKind.Fail, count, pathContains, method) { StatusCode = statusCode });
    }

    /// <summary>
    /// Wait <paramref name="delay"/> before handling the request. If the client gives up meanwhile the request is
    /// dropped without effect; otherwise it is then handled normally.
    /// </summary>
    public void HangNext(int count, TimeSpan delay, string? pathContains = null, string? method = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Arm(new FaultRule(FaultKind.Hang, count, pathContains, method) { Delay = delay });
    }

    /// <summary>Handle the request (its effect happens), then hide the answer: a 502, or a reset connection.</summary>
    public void LoseResponseNext(int count, string? pathContains = null, string? method = null, LostResponseMode mode = LostResponseMode.BadGateway) =>
        Arm(new FaultRule(FaultKind.LoseResponse, count, pathContains, method) { LostResponseMode = mode });

    /// <summary>Every issued token becomes invalid: the next API call of each client gets 401.</summary>
    public void ExpireAllTokens() => _tokens.ExpireAll();

    /// <summary>Disarms every pending fault.</summary>
    public void Clear()
    {
        lock (_rulesGate)
        {
            _rules.Clear();
            _armedRules = 0;
        }
    }

    public int PendingFaults
    {
        get
        {
            lock (_rulesGate)
            {
                return _rules.Sum(rule => rule.Remaining);
            }
        }
    }

    /// <summary>Requests received (oldest first), control routes excluded; bounded by EmulatorOptions.RequestLogCapacity.</summary>
    public IReadOnlyList<RequestLogEntry> RequestLog => _log.ToArray();

    /// <summary>How many logged requests match (method case-insensitive, path substring ordinal).</summary>
    public int CountRequests(string? method = null, string? pathContains = null) =>
        _log.Count(entry => (method is null || string.Equals(entry.Method, method, StringComparison.OrdinalIgnoreCase))
            && (pathContains is null || entry.Path.Contains(pathContains, StringComparison.Ordinal)));

    /// <summary>Logins performed so far (token requests answered 200).</summary>
    public int LoginCount => _log.Count(entry => entry.Path == "/sky/issuer/token" && entry.StatusCode == 200);

    public void ClearRequestLog()
    {
        while (_log.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _logCount);
        }
    }

    internal FaultRule? TakeMatching(string method, string path)
    {
        if (_armedRules == 0)
        {
            return null;
        }
        lock (_rulesGate)
        {
            for (var i = 0; i < _rules.Count; i++)
            {
                var rule = _rules[i];
                if (!rule.Matches(method, path) || !rule.TryConsume())
                {
                    continue;
                }
                if (rule.Remaining == 0)
                {
                    _rules.RemoveAt(i);
                    _armedRules = _rules.Count;
                }
                return rule;
            }
            return null;
        }
    }

    internal void Record(string method, string path, int statusCode, string? fault)
    {
        _log.Enqueue(new RequestLogEntry(_clock.GetUtcNow(), method, path, statusCode, fault));
        if (Interlocked.Increment(ref _logCount) > _logCapacity && _log.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _logCount);
        }
    }

    private void Arm(FaultRule rule)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rule.Remaining, 1, "count");
        lock (_rulesGate)
        {
            _rules.Add(rule);
            _armedRules = _rules.Count;
        }
    }
}
