using OnDemand.Grains.Cluster;

namespace OnDemand.Grains.Operations;

/// <summary>
/// How a grain drives its recorded operation, shared by <see cref="ClusterGrain"/> and the database grain: a timer
/// for fast polling while the grain is active, started first because it cannot fail; a reminder as the durable
/// wake-up after deactivation or the loss of a silo, registered once per activation and unregistered through the
/// handle it returned; and one state write at a time (docs/crash-consistency.md, rules 3, 4 and 11). What happens to the
/// operation record itself (deadline, back-off, the end) is <see cref="OperationLifecycle"/>. The grain supplies what a
/// tick does and what a write is.
/// </summary>
public sealed class OperationDriver(
    Grain grain, string reminderName, ClusterLifecycleOptions options, TimeProvider time, Func<CancellationToken, Task> tick, bool interleave, Action onWriteFailure)
{
    /// <summary>Deadline, back-off and the end of the operation record this driver drives.</summary>
    public OperationLifecycle Lifecycle { get; } = new(options, time);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private IGrainTimer? _timer;
    private Task<IGrainReminder>? _reminder;

    public string ReminderName => reminderName;

    /// <summary>This activation registered the reminder (a tick registers it if a request's registration failed).</summary>
    public bool ReminderRegistered => _reminder is { IsCompletedSuccessfully: true };

    /// <summary>Right after an operation was recorded: the timer, then the reminder.</summary>
    public async Task StartAsync()
    {
        StartTimer(TimeSpan.Zero);
        await EnsureReminderAsync();
    }

    public void StartTimer(TimeSpan dueTime) => _timer ??= grain.RegisterGrainTimer(tick, new GrainTimerCreationOptions
    {
        DueTime = dueTime,
        Period = options.PollInterval,
        Interleave = interleave,
        KeepAlive = true,
    });

    /// <summary>One registration however many callers (an interleaving tick and the request that started it).</summary>
    public async Task EnsureReminderAsync()
    {
        var registration = _reminder ??= grain.RegisterOrUpdateReminder(reminderName, options.ReminderPeriod, options.ReminderPeriod);
        try
        {
            await registration;
        }
        catch
        {
            if (ReferenceEquals(_reminder, registration)) _reminder = null; // the next tick tries again
            throw;
        }
    }

    /// <summary>No operation left: the timer stops and the reminder goes (read back only by an activation the reminder woke).</summary>
    public async Task StopAsync()
    {
        _timer?.Dispose();
        _timer = null;
        var registration = _reminder;
        _reminder = null;
        var reminder = registration is { IsCompletedSuccessfully: true } ? registration.Result : await grain.GetReminder(reminderName);
        if (reminder is not null) await grain.UnregisterReminder(reminder);
    }

    /// <summary>
    /// One write at a time (a tick that interleaves with requests may overlap their writes). A failed write leaves
    /// memory ahead of storage: the grain is deactivated so that the next call reloads from storage.
    /// </summary>
    public async Task WriteAsync(Func<Task> write)
    {
        await _writeLock.WaitAsync();
        try
        {
            await write();
        }
        catch
        {
            onWriteFailure();
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
