namespace OnDemand.ConcourseEmulator;

/// <summary>A fault armed for the next <c>count</c> matching requests.</summary>
internal sealed class FaultRule(FaultKind kind, int count, string? pathContains, string? method)
{
    private int _remaining = count;

    public FaultKind Kind { get; } = kind;
    public int StatusCode { get; init; }
    public TimeSpan Delay { get; init; }
    public LostResponseMode LostResponseMode { get; init; }

    public int Remaining => Volatile.Read(ref _remaining);

    public bool Matches(string requestMethod, string path) =>
        (method is null || string.Equals(method, requestMethod, StringComparison.OrdinalIgnoreCase))
        && (pathContains is null || path.Contains(pathContains, StringComparison.Ordinal));

    /// <summary>Claims one use; false when another request took the last one.</summary>
    public bool TryConsume()
    {
        while (true)
        {
            var remaining = Volatile.Read(ref _remaining);
            if (remaining <= 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _remaining, remaining - 1, remaining) == remaining)
            {
                return true;
            }
        }
    }

    public string Name => Kind switch
    {
        FaultKind.Fail => "fail",
        FaultKind.Hang => "hang",
        _ => "lost-response",
    };
}
