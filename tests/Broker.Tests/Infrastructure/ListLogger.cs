using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OnDemand.Tests.Infrastructure;

/// <summary>Keeps every message logged through it, as "Level: text".</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyList<string> Messages => _messages.ToArray();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _messages.Enqueue($"{logLevel}: {formatter(state, exception)}");
}
