namespace OnDemand.Grains.Interfaces.Catalog;

/// <summary>The broker configuration is unusable; the message says where and why, for the operator.</summary>
public sealed class CatalogException(string message, Exception? inner = null) : Exception(message, inner);
