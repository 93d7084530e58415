using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// The emulator's in-memory Concourse: teams, pipelines, jobs and builds, plus the test controls for build outcomes.
/// Thread-safe. Lookups go through concurrent dictionaries (O(1)); a pipeline's own data is guarded by its own gate,
/// held only for in-memory work, never across I/O; <see cref="BuildFinished"/> is raised after the gate is released.
/// Build lifecycle: created <c>pending</c>; <c>started</c> when its pipeline is (or becomes) unpaused; final after
/// <see cref="BuildDuration"/>. A build is finished lazily by whichever request reads it after its due time, and by a
/// background finisher, so the event fires even when nobody reads.
/// </summary>
public sealed class EmulatorState
{
    /// <summary>ScriptNextBuilds' pipeline wildcard.</summary>
    public const string AnyPipeline = "*";

    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _teams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Team, string Name), EmulatedPipeline> _pipelines = new();
    private readonly ConcurrentDictionary<long, EmulatedBuild> _builds = new();
    private readonly ConcurrentDictionary<(string Team, string Pipeline, string Job), int> _triggered = new();
    // Started but not finished: what the background finisher scans, instead of every build ever made.
    private readonly ConcurrentDictionary<long, EmulatedBuild> _running = new();
    private readonly ConcurrentDictionary<(string Pipeline, string Job), ConcurrentQueue<string>> _scripts = new();
    private readonly ConcurrentDictionary<string, byte> _heldJobs = new(StringComparer.Ordinal);
    // Builds whose DecideOutcome is still running; touched under the build's pipeline gate.
    private readonly ConcurrentDictionary<long, BuildDecision> _decisions = new();
    private long _lastPipelineId;
    private long _lastBuildId;
    // Concourse draws config versions from one global sequence: a client must not assume "previous + 1".
    private long _lastConfigVersion;
    private long _buildDurationTicks;
    private long _changes;

    internal EmulatorState(EmulatorOptions options, ILogger logger)
    {
        _clock = options.Clock;
        _logger = logger;
        DefaultTeam = options.Team;
        BuildDuration = options.BuildDuration;
        AddTeam(options.Team);
    }

    /// <summary>
    /// Raised once per build that reaches a final status, on whatever thread finished it (a request or the background
    /// finisher). Handlers must be quick and thread-safe; an exception in one is logged and does not reach the emulator.
    /// </summary>
    public event Action<BuildFinished>? BuildFinished;

    /// <summary>
    /// Decides how a build ends, like the work of a real build would: consulted once when a build's run time is over
    /// (not for aborts), with the build as it would end (<see cref="EmulatedBuildInfo.Status"/> = succeeded, or the
    /// scripted outcome). The task's result is the final status, or null to keep that one. Until the task completes
    /// the build stays <c>started</c>, so nobody sees it succeed before its work is done; a faulted task makes it
    /// <c>errored</c>, a canceled one leaves it started (asked again later). Called under the pipeline's gate: it
    /// must return at once (a completed task when it needs no I/O, else e.g. Task.Run). Null: builds just end.
    /// </summary>
    public Func<EmulatedBuildInfo, Task<string?>>? DecideOutcome { get; set; }

    /// <summary>Run time of builds started from now on. Zero: a build finishes in the request that starts it.</summary>
    public TimeSpan BuildDuration
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _buildDurationTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Interlocked.Exchange(ref _buildDurationTicks, value.Ticks);
        }
    }

    public int PipelineCount => _pipelines.Count;

    public int BuildCount => _builds.Count;

    public void AddTeam(string team)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(team);
        if (_teams.TryAdd(team, 0))
        {
            MarkChanged();
        }
    }

    public bool TeamExists(string team) => _teams.ContainsKey(team);

    /// <summary>
    /// The next builds created for <paramref name="job"/> of <paramref name="pipeline"/> ("*" = any pipeline) end with
    /// these statuses, in order (succeeded, failed, errored or aborted); later ones succeed again. A pipeline-specific
    /// script wins over "*". The outcome is fixed when the build is created.
    /// </summary>
    public void ScriptNextBuilds(string pipeline, string job, params string[] statuses)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pipeline);
        ArgumentException.ThrowIfNullOrWhiteSpace(job);
        foreach (var status in statuses)
        {
            if (!BuildStatus.IsFinal(status))
            {
                throw new ArgumentException($"'{status}' is not a final build status (succeeded, failed, errored, aborted).", nameof(statuses));
            }
        }
        var queue = _scripts.GetOrAdd((pipeline, job), _ => new ConcurrentQueue<string>());
        foreach (var status in statuses)
        {
            queue.Enqueue(status);
        }
    }

    /// <summary>Builds of this job (in any pipeline) stay <c>started</c> until <see cref="ReleaseBuilds"/>.</summary>
    public void HoldBuilds(string job)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(job);
        _heldJobs.TryAdd(job, 0);
    }

    /// <summary>Lets held builds of this job finish: those already past their run time finish now.</summary>
    public void ReleaseBuilds(string job)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(job);
        _heldJobs.TryRemove(job, out _);
        var now = _clock.GetUtcNow();
        var finished = new List<BuildFinished>();
        foreach (var build in _running.Values)
        {
            if (build.Job.Name != job)
            {
                continue;
            }
            lock (build.Pipeline.Gate)
            {
                if (build.Pipeline.Deleted)
                {
                    continue;
                }
                // A build held past its run time ends now, not back when it was due.
                if (build.FinishDue < now)
                {
                    build.FinishDue = now;
                }
                TryFinish(build, now, finished);
            }
        }
        Raise(finished);
    }

    public EmulatedPipelineInfo? GetPipeline(string pipeline, string? team = null)
    {
        if (!TryFindPipeline(team, pipeline, out var found))
        {
            return null;
        }
        lock (found.Gate)
        {
            return found.Deleted ? null : Snapshot(found);
        }
    }

    /// <summary>All live pipelines (of one team, or all), ordered by id. O(pipelines): for assertions and listings.</summary>
    public IReadOnlyList<EmulatedPipelineInfo> GetPipelines(string? team = null)
    {
        var result = new List<EmulatedPipelineInfo>();
        foreach (var pipeline in _pipelines.Values)
        {
            if (team is not null && pipeline.Team != team)
            {
                continue;
            }
            lock (pipeline.Gate)
            {
                if (!pipeline.Deleted)
                {
                    result.Add(Snapshot(pipeline));
                }
            }
        }
        result.Sort((a, b) => a.Id.CompareTo(b.Id));
        return result;
    }

    /// <summary>Every build of a job, newest first, including builds of a job no longer in the config.</summary>
    public IReadOnlyList<EmulatedBuildInfo> GetBuilds(string pipeline, string job, string? team = null) =>
        ListBuilds(team ?? DefaultTeam, pipeline, job, int.MaxValue, includeInactiveJobs: true) ?? [];

    public EmulatedBuildInfo? GetBuild(long buildId) => ReadBuild(buildId);

    /// <summary>
    /// How many builds of a job were ever triggered in this process, including those of a pipeline deleted since
    /// (whose builds Concourse, and so <see cref="GetBuilds"/>, no longer lists). For load tests' duplicate checks.
    /// </summary>
    public int BuildsEverTriggered(string pipeline, string job, string? team = null) =>
        _triggered.TryGetValue((team ?? DefaultTeam, pipeline, job), out var count) ? count : 0;

    /// <summary>Build counts by status, for stats. O(builds).</summary>
    public IReadOnlyDictionary<string, int> CountBuildsByStatus()
    {
        var now = _clock.GetUtcNow();
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var finished = new List<BuildFinished>();
        foreach (var build in _builds.Values)
        {
            string status;
            lock (build.Pipeline.Gate)
            {
                TryFinish(build, now, finished);
                status = build.Status;
            }
            counts[status] = counts.GetValueOrDefault(status) + 1;
        }
        Raise(finished);
        return counts;
    }

    /// <summary>Polls (cheaply, in memory) until the build reaches a final status; throws TimeoutException otherwise.</summary>
    public async Task<EmulatedBuildInfo> WaitForFinalStatusAsync(long buildId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var build = ReadBuild(buildId) ?? throw new InvalidOperationException($"Build {buildId} does not exist.");
            if (BuildStatus.IsFinal(build.Status))
            {
                return build;
            }
            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw new TimeoutException($"Build {buildId} is still {build.Status} after {timeout}.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken);
        }
    }

    /// <summary>The configured team, used by the inspection methods when no team is given.</summary>
    internal string DefaultTeam { get; }

    internal SaveConfigResult SaveConfig(string team, string name, string configJson, IReadOnlyList<JobSpec> jobs, long expectedVersion)
    {
        if (!TeamExists(team))
        {
            return SaveConfigResult.TeamNotFound;
        }
        var now = _clock.GetUtcNow();
        while (true)
        {
            if (!_pipelines.TryGetValue((team, name), out var pipeline))
            {
                // Creating ignores the version header, as Concourse does; the new pipeline is paused.
                var created = new EmulatedPipeline(Interlocked.Increment(ref _lastPipelineId), team, name);
                ApplyConfig(created, configJson, jobs, now);
                if (_pipelines.TryAdd((team, name), created))
                {
                    MarkChanged();
                    return SaveConfigResult.Created;
                }
                continue; // someone created it meanwhile: save against theirs, with the version check
            }

            lock (pipeline.Gate)
            {
                if (pipeline.Deleted)
                {
                    continue;
                }
                // A missing header means version 0, which only an archived pipeline has: re-setting it un-archives it.
                if (pipeline.ConfigVersion != expectedVersion)
                {
                    return SaveConfigResult.VersionConflict;
                }
                ApplyConfig(pipeline, configJson, jobs, now);
                pipeline.Archived = false;
                MarkChanged();
                return SaveConfigResult.Updated;
            }
        }
    }

    internal (string ConfigJson, long Version)? ReadConfig(string team, string name)
    {
        if (!TryFindPipeline(team, name, out var pipeline))
        {
            return null;
        }
        lock (pipeline.Gate)
        {
            return pipeline.Deleted || pipeline.ConfigJson is null ? null : (pipeline.ConfigJson, pipeline.ConfigVersion);
        }
    }

    internal EmulatedPipelineInfo? ReadPipeline(string team, string name) => GetPipeline(name, team);

    internal PipelineActionResult Pause(string team, string name) => Mutate(team, name, (pipeline, _, _) => pipeline.Paused = true);

    internal PipelineActionResult Unpause(string team, string name) => Mutate(team, name, (pipeline, now, finished) =>
    {
        pipeline.Paused = false;
        foreach (var build in pipeline.PendingBuilds)
        {
            Start(build, now, finished);
        }
        pipeline.PendingBuilds.Clear();
    });

    internal PipelineActionResult Archive(string team, string name)
    {
        if (!TryFindPipeline(team, name, out var pipeline))
        {
            return PipelineActionResult.NotFound;
        }
        lock (pipeline.Gate)
        {
            if (pipeline.Deleted)
            {
                return PipelineActionResult.NotFound;
            }
            pipeline.Archived = true;
            pipeline.Paused = true;
            pipeline.ConfigJson = null;
            pipeline.ConfigVersion = 0;
            pipeline.LastUpdated = _clock.GetUtcNow();
            foreach (var job in pipeline.Jobs.Values)
            {
                job.Active = false;
            }
            MarkChanged();
            return PipelineActionResult.Done;
        }
    }

    /// <summary>Removes the pipeline and its builds, like Concourse's cascade delete.</summary>
    internal bool Delete(string team, string name)
    {
        if (!TeamExists(team) || !_pipelines.TryRemove((team, name), out var pipeline))
        {
            return false;
        }
        lock (pipeline.Gate)
        {
            pipeline.Deleted = true;
            foreach (var build in pipeline.Jobs.Values.SelectMany(job => job.Builds))
            {
                _builds.TryRemove(build.Id, out _);
                _running.TryRemove(build.Id, out _);
            }
            pipeline.PendingBuilds.Clear();
        }
        MarkChanged();
        return true;
    }

    internal (TriggerResult Result, EmulatedBuildInfo? Build) Trigger(string team, string name, string jobName)
    {
        if (!TryFindPipeline(team, name, out var pipeline))
        {
            return (TriggerResult.PipelineNotFound, null);
        }
        var now = _clock.GetUtcNow();
        var finished = new List<BuildFinished>();
        EmulatedBuildInfo snapshot;
        lock (pipeline.Gate)
        {
            if (pipeline.Deleted)
            {
                return (TriggerResult.PipelineNotFound, null);
            }
            if (pipeline.Archived)
            {
                return (TriggerResult.Archived, null);
            }
            if (!pipeline.Jobs.TryGetValue(jobName, out var job) || !job.Active)
            {
                return (TriggerResult.JobNotFound, null);
            }
            if (job.DisableManualTrigger)
            {
                return (TriggerResult.ManualTriggerDisabled, null);
            }

            job.LastBuildNumber++;
            var build = new EmulatedBuild(
                Interlocked.Increment(ref _lastBuildId),
                pipeline,
                job,
                job.LastBuildNumber.ToString(System.Globalization.CultureInfo.InvariantCulture),
                NextScriptedOutcome(pipeline.Name, job.Name));
            job.Builds.Add(build);
            _builds[build.Id] = build;
            _triggered.AddOrUpdate((pipeline.Team, pipeline.Name, job.Name), 1, (_, n) => n + 1);
            MarkChanged();
            if (pipeline.Paused)
            {
                pipeline.PendingBuilds.Add(build);
            }
            else
            {
                Start(build, now, finished);
            }
            snapshot = build.Snapshot();
        }
        Raise(finished);
        return (TriggerResult.Created, snapshot);
    }

    /// <summary>Newest first; null when the pipeline or (active) job does not exist.</summary>
    internal IReadOnlyList<EmulatedBuildInfo>? ListBuilds(string team, string name, string jobName, int limit, bool includeInactiveJobs = false)
    {
        if (!TryFindPipeline(team, name, out var pipeline))
        {
            return null;
        }
        var now = _clock.GetUtcNow();
        var finished = new List<BuildFinished>();
        var result = new List<EmulatedBuildInfo>();
        lock (pipeline.Gate)
        {
            if (pipeline.Deleted || !pipeline.Jobs.TryGetValue(jobName, out var job) || !(job.Active || includeInactiveJobs))
            {
                return null;
            }
            for (var i = job.Builds.Count - 1; i >= 0 && result.Count < limit; i--)
            {
                var build = job.Builds[i];
                TryFinish(build, now, finished);
                result.Add(build.Snapshot());
            }
        }
        Raise(finished);
        return result;
    }

    internal EmulatedBuildInfo? ReadBuild(long buildId)
    {
        if (!_builds.TryGetValue(buildId, out var build))
        {
            return null;
        }
        var finished = new List<BuildFinished>();
        EmulatedBuildInfo snapshot;
        lock (build.Pipeline.Gate)
        {
            if (build.Pipeline.Deleted)
            {
                return null;
            }
            TryFinish(build, _clock.GetUtcNow(), finished);
            snapshot = build.Snapshot();
        }
        Raise(finished);
        return snapshot;
    }

    /// <summary>False when the build does not exist. Aborting a finished build changes nothing, as in Concourse.</summary>
    internal bool Abort(long buildId)
    {
        if (!_builds.TryGetValue(buildId, out var build))
        {
            return false;
        }
        var now = _clock.GetUtcNow();
        var finished = new List<BuildFinished>();
        lock (build.Pipeline.Gate)
        {
            if (build.Pipeline.Deleted)
            {
                return false;
            }
            TryFinish(build, now, finished);
            if (!BuildStatus.IsFinal(build.Status))
            {
                build.Pipeline.PendingBuilds.Remove(build);
                Finish(build, BuildStatus.Aborted, now, finished);
            }
        }
        Raise(finished);
        return true;
    }

    /// <summary>One pass of the background finisher: ends every running build whose time has come.</summary>
    internal void FinishDueBuilds()
    {
        var now = _clock.GetUtcNow();
        List<BuildFinished>? finished = null;
        foreach (var build in _running.Values)
        {
            if (build.FinishDue > now)
            {
                continue; // racy read of a DateTimeOffset is fine here: the decision is re-checked under the gate
            }
            finished ??= [];
            lock (build.Pipeline.Gate)
            {
                if (!build.Pipeline.Deleted)
                {
                    TryFinish(build, now, finished);
                }
            }
        }
        if (finished is not null)
        {
            Raise(finished);
        }
    }

    private bool TryFindPipeline(string? team, string name, out EmulatedPipeline pipeline)
    {
        pipeline = null!;
        team ??= DefaultTeam;
        return TeamExists(team) && _pipelines.TryGetValue((team, name), out pipeline!);
    }

    private PipelineActionResult Mutate(string team, string name, Action<EmulatedPipeline, DateTimeOffset, List<BuildFinished>> change)
    {
        if (!TryFindPipeline(team, name, out var pipeline))
        {
            return PipelineActionResult.NotFound;
        }
        var finished = new List<BuildFinished>();
        lock (pipeline.Gate)
        {
            if (pipeline.Deleted)
            {
                return PipelineActionResult.NotFound;
            }
            if (pipeline.Archived)
            {
                return PipelineActionResult.Archived;
            }
            var now = _clock.GetUtcNow();
            change(pipeline, now, finished);
            pipeline.LastUpdated = now;
            MarkChanged();
        }
        Raise(finished);
        return PipelineActionResult.Done;
    }

    private void ApplyConfig(EmulatedPipeline pipeline, string configJson, IReadOnlyList<JobSpec> jobs, DateTimeOffset now)
    {
        pipeline.ConfigJson = configJson;
        pipeline.ConfigVersion = Interlocked.Increment(ref _lastConfigVersion);
        pipeline.LastUpdated = now;
        foreach (var job in pipeline.Jobs.Values)
        {
            job.Active = false;
        }
        foreach (var spec in jobs)
        {
            if (!pipeline.Jobs.TryGetValue(spec.Name, out var job))
            {
                job = new EmulatedJob(spec.Name);
                pipeline.Jobs.Add(spec.Name, job);
            }
            job.Active = true;
            job.DisableManualTrigger = spec.DisableManualTrigger;
        }
    }

    /// <summary>Caller holds the pipeline's gate.</summary>
    private void Start(EmulatedBuild build, DateTimeOffset now, List<BuildFinished> finished)
    {
        build.Status = BuildStatus.Started;
        build.StartedAt = now;
        build.FinishDue = now + BuildDuration;
        build.ConfigAtStart = build.Pipeline.ConfigJson;
        _running[build.Id] = build;
        MarkChanged();
        TryFinish(build, now, finished);
    }

    /// <summary>Caller holds the pipeline's gate. The single place a started build ends on its own.</summary>
    private void TryFinish(EmulatedBuild build, DateTimeOffset now, List<BuildFinished> finished)
    {
        if (build.Status != BuildStatus.Started || build.FinishDue > now || _heldJobs.ContainsKey(build.Job.Name))
        {
            return;
        }
        var outcome = build.ScriptedOutcome ?? BuildStatus.Succeeded;
        // The end is when it was due, not when someone happened to look (or when its work was done, if later).
        var endedAt = build.FinishDue;
        if (DecideOutcome is { } decide)
        {
            if (!_decisions.TryGetValue(build.Id, out var decision))
            {
                decision = StartDecision(build, outcome, decide);
            }
            if (decision.State != DecisionState.Done)
            {
                return; // still working, or canceled: asked again on a later pass
            }
            _decisions.TryRemove(build.Id, out _);
            outcome = decision.Outcome ?? outcome;
            if (decision.DoneAt > endedAt)
            {
                endedAt = decision.DoneAt;
            }
        }
        Finish(build, outcome, endedAt, finished);
    }

    /// <summary>Caller holds the pipeline's gate. Runs the decider; a decision still in progress is kept in _decisions.</summary>
    private BuildDecision StartDecision(EmulatedBuild build, string outcome, Func<EmulatedBuildInfo, Task<string?>> decide)
    {
        var decision = new BuildDecision();
        Task<string?> task;
        try
        {
            task = decide(build.Snapshot() with { Status = outcome });
        }
        catch (Exception ex)
        {
            task = Task.FromException<string?>(ex);
        }
        if (task.IsCompleted)
        {
            Complete(build, decision, task);
            return decision;
        }
        _decisions[build.Id] = decision;
        // Not ExecuteSynchronously: the continuation must never run inline under this gate.
        _ = task.ContinueWith(done => OnDecided(build, decision, done), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return decision;
    }

    private void OnDecided(EmulatedBuild build, BuildDecision decision, Task<string?> task)
    {
        var finished = new List<BuildFinished>();
        lock (build.Pipeline.Gate)
        {
            Complete(build, decision, task);
            if (decision.State == DecisionState.Canceled || build.Pipeline.Deleted)
            {
                _decisions.TryRemove(build.Id, out _);
            }
            else
            {
                TryFinish(build, _clock.GetUtcNow(), finished);
                if (BuildStatus.IsFinal(build.Status))
                {
                    _decisions.TryRemove(build.Id, out _); // aborted meanwhile: the decision is moot
                }
            }
        }
        Raise(finished);
    }

    /// <summary>Caller holds the pipeline's gate.</summary>
    private void Complete(EmulatedBuild build, BuildDecision decision, Task<string?> task)
    {
        decision.DoneAt = _clock.GetUtcNow();
        if (task.IsCanceled)
        {
            decision.State = DecisionState.Canceled;
            return;
        }
        decision.State = DecisionState.Done;
        if (task.IsFaulted)
        {
            _logger.LogError(task.Exception.GetBaseException(), "Deciding the outcome of build {BuildId} failed; it errors", build.Id);
            decision.Outcome = BuildStatus.Errored;
        }
        else if (task.Result is { } status && !BuildStatus.IsFinal(status))
        {
            _logger.LogError("The outcome decided for build {BuildId} is not a final status: '{Status}'; ignored", build.Id, status);
        }
        else
        {
            decision.Outcome = task.Result;
        }
    }

    private void Finish(EmulatedBuild build, string status, DateTimeOffset endedAt, List<BuildFinished> finished)
    {
        build.Status = status;
        build.EndedAt = endedAt;
        _running.TryRemove(build.Id, out _);
        MarkChanged();
        finished.Add(new BuildFinished(
            build.Id, build.Pipeline.Team, build.Pipeline.Name, build.Job.Name, build.Name, status, build.ConfigAtStart));
    }

    private void MarkChanged() => Interlocked.Increment(ref _changes);

    private string? NextScriptedOutcome(string pipeline, string job)
    {
        if (_scripts.TryGetValue((pipeline, job), out var specific) && specific.TryDequeue(out var outcome))
        {
            return outcome;
        }
        return _scripts.TryGetValue((AnyPipeline, job), out var any) && any.TryDequeue(out outcome) ? outcome : null;
    }

    private void Raise(List<BuildFinished> finished)
    {
        var handlers = BuildFinished;
        if (handlers is null || finished.Count == 0)
        {
            return;
        }
        foreach (var evt in finished)
        {
            foreach (var handler in handlers.GetInvocationList().Cast<Action<BuildFinished>>())
            {
                try
                {
                    handler(evt);
                }
                catch (Exception ex)
                {
                    _logger.LogError(ex, "A BuildFinished handler failed for build {BuildId}", evt.BuildId);
                }
            }
        }
    }

    /// <summary>Bumped on every change worth saving (the state file saver polls it).</summary>
    internal long ChangeCount => Interlocked.Read(ref _changes);

    /// <summary>Everything a restart must keep; each pipeline is copied under its own gate.</summary>
    internal StateFileContent Export()
    {
        var pipelines = new List<StateFilePipeline>();
        foreach (var pipeline in _pipelines.Values)
        {
            lock (pipeline.Gate)
            {
                if (pipeline.Deleted)
                {
                    continue;
                }
                pipelines.Add(new StateFilePipeline(
                    pipeline.Id, pipeline.Team, pipeline.Name, pipeline.Paused, pipeline.Archived, pipeline.ConfigVersion,
                    pipeline.ConfigJson, pipeline.LastUpdated,
                    pipeline.Jobs.Values.Select(job => new StateFileJob(
                        job.Name, job.Active, job.DisableManualTrigger, job.LastBuildNumber,
                        job.Builds.Select(build => new StateFileBuild(
                            build.Id, build.Name, build.Status, build.ScriptedOutcome, build.StartedAt,
                            build.Status == BuildStatus.Started ? build.FinishDue : null, build.EndedAt, build.ConfigAtStart)).ToList())).ToList()));
            }
        }
        pipelines.Sort((a, b) => a.Id.CompareTo(b.Id));
        // Read after the pipelines: every id saved above is at most these.
        return new StateFileContent
        {
            LastPipelineId = Interlocked.Read(ref _lastPipelineId),
            LastBuildId = Interlocked.Read(ref _lastBuildId),
            LastConfigVersion = Interlocked.Read(ref _lastConfigVersion),
            Teams = _teams.Keys.Order(StringComparer.Ordinal).ToList(),
            Pipelines = pipelines,
        };
    }

    /// <summary>Restores an <see cref="Export"/> into this (new, not yet serving) state. Running builds go on running.</summary>
    internal void Import(StateFileContent content)
    {
        foreach (var team in content.Teams)
        {
            AddTeam(team);
        }
        long maxPipelineId = 0, maxBuildId = 0, maxConfigVersion = 0;
        foreach (var saved in content.Pipelines)
        {
            if (!TeamExists(saved.Team))
            {
                AddTeam(saved.Team);
            }
            var pipeline = new EmulatedPipeline(saved.Id, saved.Team, saved.Name)
            {
                Paused = saved.Paused,
                Archived = saved.Archived,
                ConfigVersion = saved.ConfigVersion,
                ConfigJson = saved.ConfigJson,
                LastUpdated = saved.LastUpdated,
            };
            var pending = new List<EmulatedBuild>();
            foreach (var savedJob in saved.Jobs)
            {
                var job = new EmulatedJob(savedJob.Name)
                {
                    Active = savedJob.Active,
                    DisableManualTrigger = savedJob.DisableManualTrigger,
                    LastBuildNumber = savedJob.LastBuildNumber,
                };
                pipeline.Jobs[job.Name] = job;
                foreach (var savedBuild in savedJob.Builds.OrderBy(build => build.Id))
                {
                    if (savedBuild.Status is not (BuildStatus.Pending or BuildStatus.Started) && !BuildStatus.IsFinal(savedBuild.Status))
                    {
                        throw new InvalidDataException($"Build {savedBuild.Id} has an unknown status '{savedBuild.Status}'.");
                    }
                    var build = new EmulatedBuild(savedBuild.Id, pipeline, job, savedBuild.Name, savedBuild.ScriptedOutcome)
                    {
                        Status = savedBuild.Status,
                        StartedAt = savedBuild.StartedAt,
                        FinishDue = savedBuild.FinishDue ?? savedBuild.EndedAt ?? savedBuild.StartedAt ?? default,
                        EndedAt = savedBuild.EndedAt,
                        ConfigAtStart = savedBuild.ConfigAtStart,
                    };
                    job.Builds.Add(build);
                    _builds[build.Id] = build;
                    if (build.Status == BuildStatus.Started)
                    {
                        _running[build.Id] = build;
                    }
                    else if (build.Status == BuildStatus.Pending)
                    {
                        pending.Add(build);
                    }
                    maxBuildId = Math.Max(maxBuildId, build.Id);
                }
            }
            pipeline.PendingBuilds.AddRange(pending.OrderBy(build => build.Id));
            _pipelines[(pipeline.Team, pipeline.Name)] = pipeline;
            maxPipelineId = Math.Max(maxPipelineId, pipeline.Id);
            maxConfigVersion = Math.Max(maxConfigVersion, pipeline.ConfigVersion);
        }
        _lastPipelineId = Math.Max(content.LastPipelineId, maxPipelineId);
        _lastBuildId = Math.Max(content.LastBuildId, maxBuildId);
        _lastConfigVersion = Math.Max(content.LastConfigVersion, maxConfigVersion);
    }

    private enum DecisionState { Pending, Done, Canceled }

    /// <summary>The state of one DecideOutcome call; guarded by the build's pipeline gate.</summary>
    private sealed class BuildDecision
    {
        public DecisionState State { get; set; }
        public string? Outcome { get; set; }
        public DateTimeOffset DoneAt { get; set; }
    }

    private static EmulatedPipelineInfo Snapshot(EmulatedPipeline pipeline) => new(
        pipeline.Id,
        pipeline.Team,
        pipeline.Name,
        pipeline.Paused,
        pipeline.Archived,
        pipeline.ConfigVersion,
        pipeline.ConfigJson,
        pipeline.Jobs.Values.Where(job => job.Active).Select(job => job.Name).ToList(),
        pipeline.LastUpdated);
}
