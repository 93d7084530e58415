using System.Net;
using System.Net.Sockets;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// Loopback TCP ports for the servers the tests start. They come from below the kernel's ephemeral range
/// (<c>/proc/sys/net/ipv4/ip_local_port_range</c>, 32768-60999 by default): a port from that range that a test holds
/// only between a stop and a start (a restarted silo, gateway or PostgreSQL) can meanwhile become the source port of
/// any outgoing connection on the machine, and the restart then fails with "address already in use". No port is
/// handed out twice in one test run.
/// </summary>
public static class FreePort
{
    private const int First = 20_000;
    private const int Last = 32_000; // exclusive; below the ephemeral range
    private static readonly HashSet<int> HandedOut = [];
    private static readonly int[] Reserved = [21_111, 30_000]; // bench/run.sh's and run.sh's silo ports

    /// <summary>A loopback TCP port nobody listens on right now, never returned before in this process.</summary>
    public static int Next()
    {
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(First, Last);
                if (Reserved.Contains(port) || HandedOut.Contains(port) || !Bindable(port)) continue;
                HandedOut.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }

    /// <summary>Whether a listener could take PORT on loopback right now (nobody listens on it).</summary>
    public static bool Bindable(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
