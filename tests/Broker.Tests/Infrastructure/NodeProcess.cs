using System.Diagnostics;
using System.Runtime.InteropServices;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// One silo or gateway as a real OS process (<c>dotnet OnDemand.Silo.dll</c>, as run.sh starts it), configured by
/// environment variables. <see cref="Kill"/> is a real <c>kill -9</c>; <see cref="StopAsync"/> sends TERM (a graceful,
/// bounded shutdown). Its output is kept in a log file and its tail is shown when a test fails.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private Process? _process;
    private StreamWriter? _log;

    private NodeProcess(string name, string dll, IReadOnlyDictionary<string, string?> settings, string logPath, Uri httpUrl)
    {
        Name = name;
        _dll = dll;
        _settings = settings;
        LogPath = logPath;
        HttpUrl = httpUrl;
    }

    public string Name { get; }
    public string LogPath { get; }
    public Uri HttpUrl { get; }
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;
    public bool Running => _process is { HasExited: false };

    /// <summary>The dll of a project of this repository, built in the configuration of the tests (Debug or Release).</summary>
    public static string ProjectDll(string projectDir, string assembly)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name; // bin/<configuration>/net10.0
        var dll = Path.Combine(RepositoryPaths.Root, projectDir, "bin", configuration, "net10.0", assembly + ".dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is missing: build tests/Broker.Tests first", dll);
        return dll;
    }

    /// <param name="settings">configuration keys ("Orleans:SiloPort"), passed as environment variables ("Orleans__SiloPort").</param>
    public static NodeProcess Start(string name, string dll, IReadOnlyDictionary<string, string?> settings, string logDir, Uri httpUrl)
    {
        var node = new NodeProcess(name, dll, settings, Path.Combine(logDir, name + ".log"), httpUrl);
        node.Start();
        return node;
    }

    /// <summary>Starts the process (again, after a kill or a stop) with the same settings and ports.</summary>
    public void Start()
    {
        if (Running) throw new InvalidOperationException($"{Name} is running");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(_dll);
        foreach (var (key, value) in _settings)
            if (value is not null) info.Environment[key.Replace(":", "__")] = value;
        info.Environment["DOTNET_gcServer"] = "0"; // many small processes on a small machine
        _log ??= new StreamWriter(new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var log = _log;
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        lock (log) log.WriteLine($"==== {DateTime.UtcNow:HH:mm:ss.fff} starting {Name}");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary><c>kill -9</c>: no deactivation, no membership write, sockets closed by the kernel.</summary>
    public void Kill()
    {
        if (_process is not { HasExited: false } p) return;
        lock (_log!) _log.WriteLine($"==== {DateTime.UtcNow:HH:mm:ss.fff} kill -9 {Name}");
        p.Kill();
        p.WaitForExit();
    }

    /// <summary>TERM, then waits for the process to end (a silo's shutdown is bounded by its watchdog).</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process is not { HasExited: false } p) return;
        lock (_log!) _log.WriteLine($"==== {DateTime.UtcNow:HH:mm:ss.fff} TERM {Name}");
        _ = SendSignal(p.Id, SigTerm);
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try { await p.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException) { p.Kill(); await p.WaitForExitAsync(); }
    }

    /// <summary>Until <paramref name="ready"/> (default: GET /health/ready answers 2xx); fails at once if the process exited.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan? timeout = null, Func<Task<bool>>? ready = null)
    {
        using var client = new HttpClient { BaseAddress = HttpUrl, Timeout = TimeSpan.FromSeconds(5) };
        ready ??= async () => (await client.GetAsync("/health/ready")).IsSuccessStatusCode;
        await Eventually.TrueAsync(async () =>
        {
            if (!Running) Assert.Fail($"{Name} exited (code {_process?.ExitCode}):\n{Tail()}");
            return await ready();
        }, $"{Name} ready at {HttpUrl} (log {LogPath})", timeout ?? TimeSpan.FromSeconds(60));
    }

    public string Tail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(stream).ReadToEnd().Split('\n');
            return string.Join("\n", all.TakeLast(lines));
        }
        catch (IOException) { return ""; }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } p)
        {
            try { p.Kill(); await p.WaitForExitAsync(); } catch (InvalidOperationException) { }
        }
        _process?.Dispose();
        if (_log is not null) await _log.DisposeAsync();
    }
}
