using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// Keeps a standalone emulator's state (EmulatorOptions.StateFile) across restarts: loaded at start, saved after
/// changes (polled, at most every EmulatorOptions.StateSaveInterval) and at shutdown. Each save writes a temp file
/// next to the target and renames it over the target, so a crash leaves the old file or the new one, never half of
/// one. The file holds CredHub values: it is created readable and writable by its owner only.
/// </summary>
internal sealed class EmulatorStateFile
{
    public const int Format = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private readonly string _path;
    private readonly EmulatorState _state;
    private readonly FakeCredHub _credHub;
    private readonly ILogger _logger;
    private readonly object _saveGate = new();
    private long _savedStateChanges = -1;
    private long _savedCredHubChanges = -1;

    public EmulatorStateFile(string path, EmulatorState state, FakeCredHub credHub, ILogger logger)
    {
        _path = Path.GetFullPath(path);
        _state = state;
        _credHub = credHub;
        _logger = logger;
    }

    /// <summary>Restores the file into the (new) state and CredHub; false when there is no file yet.</summary>
    /// <exception cref="InvalidDataException">the file exists but cannot be read: better stop than start empty and overwrite it.</exception>
    public bool Load()
    {
        if (!File.Exists(_path))
        {
            return false;
        }
        StateFileContent? content;
        try
        {
            using var stream = File.OpenRead(_path);
            content = JsonSerializer.Deserialize<StateFileContent>(stream, Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The emulator state file {_path} is not readable: {ex.Message}", ex);
        }
        if (content is null || content.Format != Format)
        {
            throw new InvalidDataException($"The emulator state file {_path} has format {content?.Format}, expected {Format}.");
        }
        _state.Import(content);
        _credHub.Import(content.Credentials);
        _savedStateChanges = _state.ChangeCount;
        _savedCredHubChanges = _credHub.ChangeCount;
        _logger.LogWarning("Restored the emulator state from {Path}: {Pipelines} pipelines, {Builds} builds, {Credentials} CredHub credentials",
            _path, content.Pipelines.Count, content.Pipelines.Sum(p => p.Jobs.Sum(j => j.Builds.Count)), content.Credentials.Count);
        return true;
    }

    /// <summary>Saves whenever something changed, until <paramref name="stopping"/>; a failed save is logged and retried.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stopping);
                SaveIfChanged();
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Saving the emulator state to {Path} failed; retrying", _path);
            }
        }
    }

    /// <summary>Writes the file if anything changed since the last save. Thread-safe.</summary>
    public void SaveIfChanged()
    {
        lock (_saveGate)
        {
            // Counters first: a change racing with the export is at worst saved twice, never lost.
            var stateChanges = _state.ChangeCount;
            var credHubChanges = _credHub.ChangeCount;
            if (stateChanges == _savedStateChanges && credHubChanges == _savedCredHubChanges)
            {
                return;
            }
            var content = _state.Export();
            content.Credentials = _credHub.Export().ToList();
            Write(content);
            _savedStateChanges = stateChanges;
            _savedCredHubChanges = credHubChanges;
        }
    }

    private void Write(StateFileContent content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var temp = _path + ".tmp";
        File.Delete(temp); // so that the owner-only mode below applies to a fresh file
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, fileOptions))
        {
            JsonSerializer.Serialize(stream, content, Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, _path, overwrite: true);
    }
}

/// <summary>The state file's shape (snake_case JSON).</summary>
internal sealed class StateFileContent
{
    public int Format { get; set; } = EmulatorStateFile.Format;
    public long LastPipelineId { get; set; }
    public long LastBuildId { get; set; }
    public long LastConfigVersion { get; set; }
    public List<string> Teams { get; set; } = [];
    public List<StateFilePipeline> Pipelines { get; set; } = [];
    public List<StoredCredential> Credentials { get; set; } = [];
}

internal sealed record StateFilePipeline(
    long Id, string Team, string Name, bool Paused, bool Archived, long ConfigVersion, string? ConfigJson, DateTimeOffset LastUpdated,
    List<StateFileJob> Jobs);

internal sealed record StateFileJob(string Name, bool Active, bool DisableManualTrigger, int LastBuildNumber, List<StateFileBuild> Builds);

/// <param name="FinishDue">set while the build runs: it goes on running after a restart and ends at this time.</param>
internal sealed record StateFileBuild(
    long Id, string Name, string Status, string? ScriptedOutcome, DateTimeOffset? StartedAt, DateTimeOffset? FinishDue,
    DateTimeOffset? EndedAt, string? ConfigAtStart);
