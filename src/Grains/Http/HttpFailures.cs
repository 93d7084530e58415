using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Flurl.Http;

namespace OnDemand.Grains.Http;

/// <summary>
/// Short, operator-readable words for what went wrong on the wire, shared by every HTTP client of the grains: each
/// client frames them in its own exception ("Concourse GET config of pipeline 'x': connection refused").
/// </summary>
public static class HttpFailures
{
    public static string ReasonPhrase(int statusCode) =>
        Enum.IsDefined(typeof(HttpStatusCode), statusCode) ? ((HttpStatusCode)statusCode).ToString() : "";

    /// <summary>A status that means "come back later": 5xx, 408 and 429. Any other refusal is the caller's to judge.</summary>
    public static bool IsTransientStatus(int statusCode) =>
        statusCode >= 500 || statusCode is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests;

    /// <summary>"answered 503 ServiceUnavailable": the reason of a transient status.</summary>
    public static string Answered(int statusCode) => $"answered {statusCode} {ReasonPhrase(statusCode)}";

    /// <summary>The reason of a 401 that <see cref="OutboundHttpClient.SendAsync"/> hands back: it came right after a fresh login.</summary>
    public const string RejectedAfterLogin = "answered 401 even right after a fresh login";

    /// <summary>"no answer within 0.5 s": the reason of a call that timed out.</summary>
    public static string NoAnswerWithin(TimeSpan timeout) =>
        string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout.TotalSeconds:0.###} s");

    /// <summary>Why no HTTP answer arrived: refused, DNS, TLS, closed... (never the request or its credentials).</summary>
    public static string DescribeTransportFailure(FlurlHttpException exception)
    {
        for (Exception? inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host name not found (DNS)",
                    SocketError.TimedOut => "connect timed out",
                    _ => $"network error ({socket.SocketErrorCode})",
                };
            }
            if (inner is HttpRequestException { HttpRequestError: var error } && error != HttpRequestError.Unknown && inner.InnerException is not SocketException)
            {
                return error switch
                {
                    HttpRequestError.NameResolutionError => "host name not found (DNS)",
                    HttpRequestError.ConnectionError => "could not connect",
                    HttpRequestError.ResponseEnded => "connection closed before the answer",
                    HttpRequestError.SecureConnectionError => "TLS handshake failed",
                    _ => $"HTTP error ({error})",
                };
            }
        }
        return exception.InnerException?.Message ?? exception.Message;
    }
}
