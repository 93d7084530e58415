using System.Diagnostics;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// nginx in front of gateways, with the load-balancing rules of run.sh (docs/scaling-out.md): round robin, passive
/// health checks, an idempotent request that reached no gateway retried on the next one (not on a 503). Its own
/// prefix folder, config and port; no root needed. test.sh installs nginx-light.
/// </summary>
public sealed class NginxBalancer : IAsyncDisposable
{
    private readonly Process _process;

    private NginxBalancer(Process process, Uri url, string prefix)
    {
        _process = process;
        Url = url;
        Prefix = prefix;
    }

    public Uri Url { get; }
    public string Prefix { get; }

    public static string? Binary() =>
        new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
        ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "nginx")).FirstOrDefault(File.Exists);

    /// <summary>The http block of run.sh's generated config, for these gateways.</summary>
    public static string Config(string prefix, int port, IEnumerable<Uri> gateways) => $$"""
        pid {{prefix}}/nginx.pid;
        error_log {{prefix}}/error.log warn;
        worker_processes 1;
        events { worker_connections 1024; }
        http {
          access_log off;
          client_body_temp_path {{prefix}}/tmp/body; proxy_temp_path {{prefix}}/tmp/proxy;
          fastcgi_temp_path {{prefix}}/tmp/fastcgi; uwsgi_temp_path {{prefix}}/tmp/uwsgi; scgi_temp_path {{prefix}}/tmp/scgi;
          upstream gateways {
        {{string.Join("\n", gateways.Select(g => $"    server {g.Authority} max_fails=3 fail_timeout=5s;"))}}
            keepalive 32;
          }
          server {
            listen 127.0.0.1:{{port}};
            client_max_body_size 1m; client_body_buffer_size 1m; proxy_max_temp_file_size 0;
            location / {
              proxy_pass http://gateways;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_set_header Host $http_host;
              proxy_connect_timeout 2s;
              proxy_read_timeout 65s;
              proxy_next_upstream error timeout http_502;
              proxy_next_upstream_tries 2;
              proxy_next_upstream_timeout 15s;
            }
          }
        }
        """;

    public static async Task<NginxBalancer> StartAsync(IEnumerable<Uri> gateways, string workDir)
    {
        var nginx = Binary() ?? throw new InvalidOperationException("nginx is missing: sudo apt-get install -y nginx-light (./test.sh installs it when run as root)");
        var prefix = Path.Combine(workDir, "nginx");
        Directory.CreateDirectory(Path.Combine(prefix, "tmp"));
        var port = FreePort.Next();
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, Config(prefix, port, gateways));
        var info = new ProcessStartInfo(nginx) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-p", prefix, "-c", config, "-e", Path.Combine(prefix, "error.log"), "-g", "daemon off;" }) info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        var balancer = new NginxBalancer(process, new Uri($"http://127.0.0.1:{port}"), prefix);
        await Eventually.TrueAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"nginx exited: {await process.StandardError.ReadToEndAsync()} {ReadLog(prefix)}");
            try
            {
                using var tcp = new System.Net.Sockets.TcpClient();
                await tcp.ConnectAsync("127.0.0.1", port);
                return true;
            }
            catch (System.Net.Sockets.SocketException) { return false; }
        }, "nginx listening", TimeSpan.FromSeconds(20));
        return balancer;
    }

    public string ErrorLog() => ReadLog(Prefix);

    private static string ReadLog(string prefix)
    {
        try { return File.ReadAllText(Path.Combine(prefix, "error.log")); } catch (IOException) { return ""; }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
