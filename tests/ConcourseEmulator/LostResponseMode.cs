namespace OnDemand.ConcourseEmulator;

/// <summary>How <see cref="FaultInjector.LoseResponseNext"/> hides the answer of a request whose effect happened.</summary>
public enum LostResponseMode
{
    /// <summary>Answer 502, as a load balancer does when the backend's reply never arrives.</summary>
    BadGateway,

    /// <summary>Reset the connection without any answer.</summary>
    AbortConnection,
}
