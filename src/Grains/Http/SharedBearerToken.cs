namespace OnDemand.Grains.Http;

/// <summary>
/// A bearer token shared by every caller of one HTTP client: cached until shortly before it expires, renewed by
/// one login for all concurrent callers (whoever waits finds the token the first one got).
/// </summary>
public sealed class SharedBearerToken(TimeProvider clock, Func<CancellationToken, Task<BearerToken>> logIn) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile BearerToken? _token;

    public async ValueTask<string> GetAsync(CancellationToken cancellationToken)
    {
        var cached = _token;
        if (cached is not null && cached.IsFresh(clock.GetUtcNow())) return cached.Value;
        return await RenewAsync(cached?.Value, cancellationToken);
    }

    /// <summary>A fresh token, unless another caller already replaced <paramref name="staleToken"/> (e.g. after a 401).</summary>
    public async Task<string> RenewAsync(string? staleToken, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var current = _token;
            if (current is not null && current.Value != staleToken && current.IsFresh(clock.GetUtcNow())) return current.Value;
            var fresh = await logIn(cancellationToken);
            _token = fresh;
            return fresh.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}

/// <param name="RenewAt">when to log in again: the token's expiry minus a safety margin.</param>
public sealed record BearerToken(string Value, DateTimeOffset RenewAt)
{
    private static readonly TimeSpan MaxRenewalMargin = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A token issued <paramref name="now"/> for <paramref name="lifetime"/>, renewed a little early (a tenth of its
    /// lifetime, at most a minute) so that a call never leaves with a token that dies on the way.
    /// </summary>
    public static BearerToken Issued(string value, TimeSpan lifetime, DateTimeOffset now) =>
        new(value, now + lifetime - TimeSpan.FromTicks(Math.Min(MaxRenewalMargin.Ticks, lifetime.Ticks / 10)));

    public bool IsFresh(DateTimeOffset now) => now < RenewAt;

    // Keep the token out of any log or debugger display that prints the record.
    public override string ToString() => $"BearerToken {{ RenewAt = {RenewAt:O} }}";
}
