using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace OnDemand.Grains.Yaml;

/// <summary>
/// Size, event, depth and node limits for YAML the broker loads. Realistic pipelines nest about 12 levels and have a
/// few hundred nodes; the limits only stop hostile or broken input (alias bombs, deep nesting that would exhaust the
/// stack) before it costs a silo its memory or its process.
/// </summary>
public static class YamlLimits
{
    public const int MaxDocumentBytes = 1024 * 1024;
    public const int MaxDepth = 64;
    public const int MaxEvents = 200_000;
    public const int MaxNodes = 100_000;
    public const int MaxNumberLiteralLength = 100;

    public static void EnsureSize(string yaml, string subject)
    {
        // UTF-8 never takes fewer bytes than UTF-16 code units, so the cheap length test settles the large cases.
        if (yaml.Length > MaxDocumentBytes || Encoding.UTF8.GetByteCount(yaml) > MaxDocumentBytes)
        {
            throw new YamlLoadException($"{subject} is larger than {MaxDocumentBytes / 1024} KiB");
        }
    }

    internal static string Position(Mark mark) => $"line {mark.Line}, column {mark.Column}";

    /// <summary>
    /// Reads every parse event up front so nesting depth and size are checked before YamlStream's recursive loader
    /// runs: a stack overflow cannot be caught and would take the whole silo down.
    /// </summary>
    internal sealed class BoundedEventBuffer(List<ParsingEvent> events) : IParser
    {
        private int _index = -1;

        public ParsingEvent? Current => _index >= 0 && _index < events.Count ? events[_index] : null;

        public bool MoveNext() => ++_index < events.Count;

        public static BoundedEventBuffer Read(string yaml, string subject)
        {
            var parser = new Parser(new StringReader(yaml));
            var events = new List<ParsingEvent>();
            var depth = 0;
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (events.Count >= MaxEvents)
                {
                    throw new YamlLoadException($"{subject} has more than {MaxEvents} YAML nodes");
                }

                if (current is MappingStart or SequenceStart && ++depth > MaxDepth)
                {
                    throw new YamlLoadException($"{subject} is nested deeper than {MaxDepth} levels ({Position(current.Start)})");
                }

                if (current is MappingEnd or SequenceEnd)
                {
                    depth--;
                }

                events.Add(current);
            }

            return new BoundedEventBuffer(events);
        }
    }
}
