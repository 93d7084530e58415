namespace OnDemand.Grains.Http;

/// <summary>What a call answered: its status, its whole body and its headers.</summary>
public sealed record HttpAnswer(int Status, string Body, IReadOnlyList<(string Name, string Value)> Headers)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public string? Header(string name) =>
        Headers.FirstOrDefault(header => string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase)).Value;
}
