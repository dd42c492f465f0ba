// AWS's Amazon.Lambda.Core interfaces, in their own namespace and names, so that C# handlers
// written for AWS compile against this assembly (mcs) and run under Lambent's Mono runtime.
using System;
using System.Collections.Generic;
using System.IO;

[assembly:System.Reflection.AssemblyVersion("2.0.0.0")]

namespace Amazon.Lambda.Core
{
/// <summary>The invocation's context.</summary>
public interface ILambdaContext
{
    string AwsRequestId { get; }
    IClientContext ClientContext { get; }
    string FunctionName { get; }
    string FunctionVersion { get; }
    ICognitoIdentity Identity { get; }
    string InvokedFunctionArn { get; }
    ILambdaLogger Logger { get; }
    string LogGroupName { get; }
    string LogStreamName { get; }
    int MemoryLimitInMB { get; }
    TimeSpan RemainingTime { get; }
}

/// <summary>Writes to the function's log stream.</summary>
public interface ILambdaLogger
{
    void Log(string message);
    void LogLine(string message);
}

/// <summary>The Amazon Cognito identity of a mobile SDK caller.</summary>
public interface ICognitoIdentity
{
    string IdentityId { get; }
    string IdentityPoolId { get; }
}

/// <summary>The client context of a mobile SDK invocation.</summary>
public interface IClientContext
{
    IDictionary<string, string> Environment { get; }
    IClientApplication Client { get; }
    IDictionary<string, string> Custom { get; }
}

/// <summary>The client application of a mobile SDK invocation.</summary>
public interface IClientApplication
{
    string AppPackageName { get; }
    string AppTitle { get; }
    string AppVersionCode { get; }
    string AppVersionName { get; }
    string InstallationId { get; }
}

/// <summary>Converts a handler's input and output from and to the payload.</summary>
public interface ILambdaSerializer
{
    T Deserialize<T>(Stream requestStream);
    void Serialize<T>(T response, Stream responseStream);
}

/// <summary>Names the ILambdaSerializer of an assembly or a handler method.</summary>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Method, AllowMultiple = false)]
public sealed class LambdaSerializerAttribute : Attribute
{
    public LambdaSerializerAttribute(Type serializerType)
    {
        SerializerType = serializerType;
    }

    public Type SerializerType { get; set; }
}

/// <summary>The logger outside a handler (static constructors, helpers).</summary>
public static class LambdaLogger
{
    public static void Log(string message)
    {
        Console.Out.Write(message);
        Console.Out.Flush();
    }
}
}
