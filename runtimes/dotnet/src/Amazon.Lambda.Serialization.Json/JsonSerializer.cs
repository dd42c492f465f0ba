// AWS's Newtonsoft-based serializer (Amazon.Lambda.Serialization.Json.JsonSerializer), on the
// Newtonsoft.Json Debian carries. The System.Text.Json serializers of .NET 8 cannot exist under
// Mono; DefaultLambdaJsonSerializer (Amazon.Lambda.Serialization.SystemTextJson) is this same
// serializer under the name templates for .NET 8 use, so that their attribute compiles.
using System;
using System.IO;
using System.Text;
using Amazon.Lambda.Core;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

[assembly:System.Reflection.AssemblyVersion("2.0.0.0")]

namespace Amazon.Lambda.Serialization.Json
{
public class JsonSerializer : ILambdaSerializer
{
    private readonly Newtonsoft.Json.JsonSerializer serializer;

    public JsonSerializer()
    {
        var settings = new JsonSerializerSettings {
            NullValueHandling = NullValueHandling.Ignore,
            ContractResolver = new DefaultContractResolver(),
        };
        serializer = Newtonsoft.Json.JsonSerializer.Create(settings);
    }

    public T Deserialize<T>(Stream requestStream)
    {
        try
        {
            using (var reader = new JsonTextReader(new StreamReader(requestStream, Encoding.UTF8)))
            {
                return serializer.Deserialize<T>(reader);
            }
        }
        catch (JsonException e)
        {
            throw new JsonSerializerException(
                "Error converting the Lambda event JSON payload to a " + typeof(T).FullName + ": " + e.Message, e);
        }
    }

    public void Serialize<T>(T response, Stream responseStream)
    {
        try
        {
            var writer = new StreamWriter(responseStream, new UTF8Encoding(false));
            serializer.Serialize(writer, response);
            writer.Flush();
        }
        catch (JsonException e)
        {
            throw new JsonSerializerException("Error converting the response object of type " + typeof(T).FullName +
                                                  " from the Lambda function to JSON: " + e.Message,
                                              e);
        }
    }
}

/// <summary>A payload or a result that does not convert, as AWS's serializer reports it.</summary>
public class JsonSerializerException : Exception
{
    public JsonSerializerException(string message, Exception inner) : base(message, inner)
    {
    }
}
}

namespace Amazon.Lambda.Serialization.SystemTextJson
{
/// <summary>The .NET 8 templates' serializer name, backed by Newtonsoft.Json under
/// Mono.</summary>
public class DefaultLambdaJsonSerializer : Amazon.Lambda.Serialization.Json.JsonSerializer
{
}
}
