namespace OnDemand.Tests.Infrastructure;

/// <summary>Waits for a condition the system reaches on its own; fails with what it saw last, never silently.</summary>
public static class Eventually
{
    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        MatchesAsync(condition, done => done, what, timeout);

    /// <returns>the first value that satisfies <paramref name="done"/>.</returns>
    public static async Task<T> MatchesAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var last = default(T);
        Exception? lastError = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await read();
                if (done(last)) return last;
                lastError = null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lastError = e;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"not reached within {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds:0} s: {what}; last seen: {(lastError?.Message ?? last?.ToString() ?? "nothing")}");
        return last!;
    }
}
