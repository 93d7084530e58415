using Microsoft.Extensions.Logging;

namespace OnDemand.ConcourseEmulator;

/// <summary>How a <see cref="ConcourseEmulatorServer"/> starts. Defaults suit tests: random port, builds finish at once.</summary>
public sealed class EmulatorOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free one (read it back from <see cref="ConcourseEmulatorServer.Url"/>).</summary>
    public int Port { get; set; }

    /// <summary>The only local user; the token endpoint accepts nothing else.</summary>
    public string Username { get; set; } = "admin";

    public string Password { get; set; } = "admin";

    /// <summary>The team that exists from the start; more can be added with <see cref="EmulatorState.AddTeam"/>.</summary>
    public string Team { get; set; } = "main";

    /// <summary>How long a started build runs before it finishes. Zero finishes it within the request that starts it.</summary>
    public TimeSpan BuildDuration { get; set; } = TimeSpan.Zero;

    /// <summary>The expires_in of issued tokens (Concourse's default is 24 h).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Clock for tokens and build timestamps, so a test can move time instead of sleeping.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>How often running builds are checked so that <see cref="EmulatorState.BuildFinished"/> fires without a read.</summary>
    public TimeSpan FinisherInterval { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>The request log keeps at most this many entries (oldest dropped) so long benchmarks stay bounded.</summary>
    public int RequestLogCapacity { get; set; } = 100_000;

    /// <summary>Minimum level of the emulator's console log; the start banner is logged at Warning so it always shows.</summary>
    public LogLevel MinimumLogLevel { get; set; } = LogLevel.Warning;

    /// <summary>Replaces the console logger (e.g. to route the emulator's log into a test's output).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }

    /// <summary>The UAA client the fake CredHub accepts (client credentials grant on {Url}uaa/oauth/token).</summary>
    public string CredHubClientId { get; set; } = "broker";

    public string CredHubClientSecret { get; set; } = "broker-secret";

    /// <summary>The expires_in of tokens of the fake UAA (UAA's default for clients is 12 h).</summary>
    public TimeSpan CredHubTokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// A PostgreSQL superuser connection string standing in for the clusters' database servers. When set, a
    /// succeeded deploy build creates the cluster's admin role from CredHub and a succeeded delete build drops it
    /// with its databases (see <see cref="ClusterDeploymentEmulator"/>). Null: builds only change status.
    /// </summary>
    public string? ClusterPostgres { get; set; }

    /// <summary>The jobs <see cref="ClusterDeploymentEmulator"/> acts on (the catalog's deploy_job / delete_job).</summary>
    public string ClusterDeployJob { get; set; } = "deploy";

    public string ClusterDeleteJob { get; set; } = "delete";

    /// <summary>
    /// What BOSH and Concourse would refuse in a pipeline, as the tests' static checker sees it (config JSON in,
    /// errors out): when set, a deploy build of a pipeline it finds fault with fails, as the real deploy would.
    /// </summary>
    public Func<string, IReadOnlyList<string>>? DeployCheck { get; set; }

    /// <summary>
    /// A JSON file holding teams, pipelines, jobs, builds and CredHub values: loaded at start when it exists, saved
    /// (atomically, at most every <see cref="StateSaveInterval"/>) after changes and at shutdown. Null: memory only.
    /// The file holds secrets; it is created readable by its owner only.
    /// </summary>
    public string? StateFile { get; set; }

    public TimeSpan StateSaveInterval { get; set; } = TimeSpan.FromMilliseconds(200);
}
