using Orleans;
using Orleans.Runtime;

namespace OnDemand.Tests.Integration;

// A minimal grain exercising exactly what the project's SQL scripts must support: persisted state through the
// ADO.NET storage provider and a reminder through the ADO.NET reminder table.

[Alias("OnDemand.Tests.Integration.ISqlContractTestGrain")]
public interface ISqlContractTestGrain : IGrainWithStringKey
{
    [Alias("SetValue")]
    Task SetValue(string value);

    [Alias("GetValue")]
    Task<string?> GetValue();

    [Alias("StartReminder")]
    Task StartReminder(TimeSpan dueTime, TimeSpan period);

    [Alias("StopReminder")]
    Task StopReminder();

    [Alias("GetReminderTicks")]
    Task<int> GetReminderTicks();
}

[GenerateSerializer, Alias("OnDemand.Tests.Integration.SqlContractTestState")]
public sealed class SqlContractTestState
{
    [Id(0)]
    public string? Value { get; set; }

    [Id(1)]
    public int ReminderTicks { get; set; }
}

public sealed class SqlContractTestGrain(
    [PersistentState("state", OrleansSqlContractTests.StorageName)] IPersistentState<SqlContractTestState> state)
    : Grain, ISqlContractTestGrain, IRemindable
{
    public const string ReminderName = "sql-contract-tick";

    public async Task SetValue(string value)
    {
        state.State.Value = value;
        await state.WriteStateAsync();
    }

    public Task<string?> GetValue() => Task.FromResult(state.State.Value);

    public Task StartReminder(TimeSpan dueTime, TimeSpan period) =>
        this.RegisterOrUpdateReminder(ReminderName, dueTime, period);

    public async Task StopReminder()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<int> GetReminderTicks() => Task.FromResult(state.State.ReminderTicks);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.ReminderTicks++;
        await state.WriteStateAsync();
    }
}
