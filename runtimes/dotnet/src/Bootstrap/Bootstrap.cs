// Lambent's runtime interface client for C# under Mono (the dotnet8 runtime name, see
// runtimes/README.md). Loads the handler named by _HANDLER ("Assembly::Namespace.Class::Method")
// from /var/task (Init), then loops over the Runtime API: GET /next, call the handler, POST
// /response or /error. Behaviour follows AWS's .NET runtime (Amazon.Lambda.RuntimeSupport):
// handler parameters (input[, ILambdaContext]) or a Stream, results T, Task, Task<T>, Stream or
// void; the LambdaSerializer attribute of the method or the assembly; errors as
// {"errorType", "errorMessage", "stackTrace", "cause"}.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Threading.Tasks;
using Amazon.Lambda.Core;

namespace Lambent.Runtime
{
/// <summary>A keep-alive HTTP/1.1 client of the Runtime API over a plain socket.</summary>
internal sealed class RuntimeApi
{
    internal const string Base = "/2018-06-01/runtime";
    private readonly string host;
    private readonly int port;
    private TcpClient client;
    private BufferedStream stream;

    internal sealed class Response
    {
        internal int Status;
        internal readonly Dictionary<string, string> Headers = new Dictionary<string, string>();
        internal byte[] Body;

        internal string Header(string name)
        {
            string v;
            return Headers.TryGetValue(name, out v) ? v : null;
        }
    }

    internal RuntimeApi(string address)
    {
        int colon = address.LastIndexOf(':');
        host = colon < 0 ? address : address.Substring(0, colon);
        port = colon < 0 ? 80 : int.Parse(address.Substring(colon + 1));
    }

    internal Response Next()
    {
        while (true)
        {
            Response r = Request("GET", Base + "/invocation/next", null, null);
            if (r.Status == 200)
                return r;
            System.Threading.Thread.Sleep(10);
        }
    }

    internal Response Post(string path, byte[] body, string errorType)
    {
        return Request("POST", Base + path, body, errorType);
    }

    private Response Request(string method, string path, byte[] body, string errorType)
    {
        for (int attempt = 0;; ++attempt)
        {
            try
            {
                if (client == null)
                    Connect();
                var head = new StringBuilder(160);
                head.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: ").Append(host);
                head.Append("\r\nContent-Length: ").Append(body == null ? 0 : body.Length);
                if (body != null)
                    head.Append("\r\nContent-Type: application/json");
                if (errorType != null)
                    head.Append("\r\nLambda-Runtime-Function-Error-Type: ").Append(errorType);
                head.Append("\r\n\r\n");
                byte[] h = Encoding.ASCII.GetBytes(head.ToString());
                stream.Write(h, 0, h.Length);
                if (body != null)
                    stream.Write(body, 0, body.Length);
                stream.Flush();
                return ReadResponse();
            }
            catch (IOException)
            {
                Close();
                if (attempt == 1)
                    throw;
            }
            catch (SocketException)
            {
                Close();
                if (attempt == 1)
                    throw;
            }
        }
    }

    private void Connect()
    {
        client = new TcpClient();
        client.NoDelay = true;
        client.Connect(host, port);
        stream = new BufferedStream(client.GetStream(), 65536);
    }

    private void Close()
    {
        if (client != null)
            client.Close();
        client = null;
    }

    private string ReadLine()
    {
        var line = new StringBuilder(128);
        int c;
        while ((c = stream.ReadByte()) != -1)
        {
            if (c == '\n')
                break;
            if (c != '\r')
                line.Append((char)c);
        }
        if (c == -1 && line.Length == 0)
            throw new IOException("the Runtime API closed the connection");
        return line.ToString();
    }

    private Response ReadResponse()
    {
        var r = new Response();
        string status = ReadLine();
        int sp = status.IndexOf(' ');
        r.Status = int.Parse(status.Substring(sp + 1, 3));
        string line;
        while ((line = ReadLine()).Length != 0)
        {
            int colon = line.IndexOf(':');
            if (colon > 0)
                r.Headers[line.Substring(0, colon).Trim().ToLowerInvariant()] = line.Substring(colon + 1).Trim();
        }
        string length = r.Header("content-length");
        int n = length == null ? 0 : int.Parse(length);
        r.Body = new byte[n];
        for (int off = 0; off < n;)
        {
            int got = stream.Read(r.Body, off, n - off);
            if (got <= 0)
                throw new IOException("the Runtime API closed the connection");
            off += got;
        }
        return r;
    }
}

internal sealed class Logger : ILambdaLogger
{
    public void Log(string message)
    {
        Console.Out.Write(message);
        Console.Out.Flush();
    }

    public void LogLine(string message)
    {
        Console.Out.WriteLine(message);
        Console.Out.Flush();
    }
}

internal sealed class CognitoIdentity : ICognitoIdentity
{
    public string IdentityId { get; internal set; }
    public string IdentityPoolId { get; internal set; }
}

internal sealed class ClientApplication : IClientApplication
{
    public string AppPackageName { get; internal set; }
    public string AppTitle { get; internal set; }
    public string AppVersionCode { get; internal set; }
    public string AppVersionName { get; internal set; }
    public string InstallationId { get; internal set; }
}

internal sealed class ClientContext : IClientContext
{
    public IDictionary<string, string> Environment { get; internal set; }
    public IClientApplication Client { get; internal set; }
    public IDictionary<string, string> Custom { get; internal set; }
}

internal sealed class LambdaContext : ILambdaContext
{
    private static readonly ILambdaLogger SharedLogger = new Logger();
    private readonly long deadlineMs;

    internal LambdaContext(RuntimeApi.Response next)
    {
        AwsRequestId = next.Header("lambda-runtime-aws-request-id") ?? "";
        InvokedFunctionArn = next.Header("lambda-runtime-invoked-function-arn") ?? "";
        long.TryParse(next.Header("lambda-runtime-deadline-ms"), out deadlineMs);
        FunctionName = Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_NAME");
        FunctionVersion = Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_VERSION");
        LogGroupName = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_GROUP_NAME");
        LogStreamName = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_STREAM_NAME");
        int memory;
        int.TryParse(Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), out memory);
        MemoryLimitInMB = memory;
        var cognito = Json.Object(next.Header("lambda-runtime-cognito-identity"));
        Identity = new CognitoIdentity {
            IdentityId = Json.Str(cognito, "cognitoIdentityId") ?? "",
            IdentityPoolId = Json.Str(cognito, "cognitoIdentityPoolId") ?? "",
        };
        var client = Json.Object(next.Header("lambda-runtime-client-context"));
        if (client != null)
        {
            var app = client["client"] as Newtonsoft.Json.Linq.JObject;
            ClientContext = new ClientContext {
                Client =
                    new ClientApplication {
                        AppPackageName = Json.Str(app, "app_package_name"),
                        AppTitle = Json.Str(app, "app_title"),
                        AppVersionCode = Json.Str(app, "app_version_code"),
                        AppVersionName = Json.Str(app, "app_version_name"),
                        InstallationId = Json.Str(app, "installation_id"),
                    },
                Custom = Json.Strings(client["custom"]),
                Environment = Json.Strings(client["env"]),
            };
        }
    }

    public string AwsRequestId { get; private set; }
    public IClientContext ClientContext { get; private set; }
    public string FunctionName { get; private set; }
    public string FunctionVersion { get; private set; }
    public ICognitoIdentity Identity { get; private set; }
    public string InvokedFunctionArn { get; private set; }
    public ILambdaLogger Logger
    {
        get {
            return SharedLogger;
        }
    }
    public string LogGroupName { get; private set; }
    public string LogStreamName { get; private set; }
    public int MemoryLimitInMB { get; private set; }

    public TimeSpan RemainingTime
    {
        get {
            long now = (long)(DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMilliseconds;
            return TimeSpan.FromMilliseconds(Math.Max(0, deadlineMs - now));
        }
    }
}

/// <summary>The few JSON reads and writes of the runtime itself (Newtonsoft.Json).</summary>
internal static class Json
{
    internal static Newtonsoft.Json.Linq.JObject Object(string text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        try
        {
            return Newtonsoft.Json.Linq.JObject.Parse(text);
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return null;
        }
    }

    internal static string Str(Newtonsoft.Json.Linq.JObject o, string key)
    {
        if (o == null)
            return null;
        var v = o[key];
        return v == null ? null : v.ToString();
    }

    internal static IDictionary<string, string> Strings(Newtonsoft.Json.Linq.JToken t)
    {
        var o = t as Newtonsoft.Json.Linq.JObject;
        if (o == null)
            return null;
        var d = new Dictionary<string, string>();
        foreach (var p in o.Properties())
            d[p.Name] = p.Value.ToString();
        return d;
    }

    /// <summary>AWS's .NET error document, with the inner exceptions as causes.</summary>
    internal static byte[] Error(Exception e)
    {
        return Encoding.UTF8.GetBytes(ErrorObject(e, 0).ToString(Newtonsoft.Json.Formatting.None));
    }

    private static Newtonsoft.Json.Linq.JObject ErrorObject(Exception e, int depth)
    {
        var o = new Newtonsoft.Json.Linq.JObject();
        o["errorType"] = e.GetType().Name;
        o["errorMessage"] = e.Message;
        var trace = new Newtonsoft.Json.Linq.JArray();
        foreach (var line in (e.StackTrace ?? "").Split('\n'))
        {
            string l = line.Trim();
            if (l.Length == 0 || l.Contains("Lambent.Runtime.") || l.Contains("System.Reflection."))
                continue;
            if (l.StartsWith("at (wrapper"))
                continue;
            trace.Add(l);
        }
        o["stackTrace"] = trace;
        if (e.InnerException != null && depth < 16)
            o["cause"] = ErrorObject(e.InnerException, depth + 1);
        return o;
    }
}

/// <summary>A failure of Init that AWS reports as LambdaValidationException.</summary>
internal sealed class LambdaValidationException : Exception
{
    internal LambdaValidationException(string message) : base(message)
    {
    }
}

/// <summary>The handler named by _HANDLER, resolved as AWS's .NET runtime does.</summary>
internal sealed class Handler
{
    private readonly object target;
    private readonly MethodInfo method;
    private readonly ILambdaSerializer serializer;
    private readonly Type inputType;
    private readonly bool takesContext;
    private readonly MethodInfo deserialize;
    private readonly MethodInfo serialize;
    private readonly Type resultType; // what Serialize gets: T of Task<T>, or the return type

    private Handler(object target, MethodInfo method, ILambdaSerializer serializer)
    {
        this.target = target;
        this.method = method;
        this.serializer = serializer;
        var ps = method.GetParameters();
        takesContext = ps.Length > 0 && ps[ps.Length - 1].ParameterType == typeof(ILambdaContext);
        int inputs = ps.Length - (takesContext ? 1 : 0);
        inputType = inputs == 1 ? ps[0].ParameterType : null;
        Type ret = method.ReturnType;
        if (ret.IsGenericType && ret.GetGenericTypeDefinition() == typeof(Task<>))
            ret = ret.GetGenericArguments()[0];
        else if (ret == typeof(Task) || ret == typeof(void))
            ret = null;
        resultType = ret;
        if (serializer != null)
        {
            if (inputType != null && inputType != typeof(Stream))
                deserialize = typeof(ILambdaSerializer).GetMethod("Deserialize").MakeGenericMethod(inputType);
            if (resultType != null && !typeof(Stream).IsAssignableFrom(resultType))
                serialize = typeof(ILambdaSerializer).GetMethod("Serialize").MakeGenericMethod(resultType);
        }
    }

    internal static Handler Load(string spec)
    {
        var parts = (spec ?? "").Split(new[] { "::" }, StringSplitOptions.None);
        if (parts.Length != 3 || parts.Any(string.IsNullOrEmpty))
            throw new LambdaValidationException(
                "Invalid handler string '" + spec +
                "'. The handler string should be of the format ASSEMBLY::TYPE::METHOD.");
        string root = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT") ?? "/var/task";
        Assembly assembly;
        string path = Path.Combine(root, parts[0] + ".dll");
        if (!File.Exists(path))
            path = Path.Combine(root, parts[0] + ".exe");
        try
        {
            assembly = Assembly.LoadFrom(path);
        }
        catch (FileNotFoundException)
        {
            throw new LambdaValidationException(
                "Could not find the specified handler assembly with the file name '" + parts[0] +
                ".dll'. The assembly should be located in the root of your uploaded .zip file.");
        }
        Type type = assembly.GetType(parts[1]);
        if (type == null)
            throw new LambdaValidationException("Unable to find type '" + parts[1] + "' in assembly '" + parts[0] +
                                                "'.");
        var candidates =
            type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)
                .Where(m => m.Name == parts[2])
                .ToArray();
        if (candidates.Length == 0)
            throw new LambdaValidationException("Unable to find method '" + parts[2] + "' in type '" + parts[1] +
                                                "' from assembly '" + parts[0] +
                                                "': Found no methods matching method name '" + parts[2] + "'.");
        if (candidates.Length > 1)
            throw new LambdaValidationException(
                "Unable to find method '" + parts[2] + "' in type '" + parts[1] + "' from assembly '" + parts[0] +
                "': Found more than one method matching method name '" + parts[2] + "'.");
        var method = candidates[0];
        var ps = method.GetParameters();
        if (ps.Length > 2 || (ps.Length == 2 && ps[1].ParameterType != typeof(ILambdaContext)))
            throw new LambdaValidationException(
                "Handler method '" + parts[2] +
                "' has too many parameters or its second parameter is not an ILambdaContext.");
        var attr = (LambdaSerializerAttribute)Attribute.GetCustomAttribute(method, typeof(LambdaSerializerAttribute)) ??
                   (LambdaSerializerAttribute)Attribute.GetCustomAttribute(assembly, typeof(LambdaSerializerAttribute));
        ILambdaSerializer serializer =
            attr == null ? null : (ILambdaSerializer)Activator.CreateInstance(attr.SerializerType);
        bool needsSerializer =
            (ps.Length > 0 && ps[0].ParameterType != typeof(ILambdaContext) && ps[0].ParameterType != typeof(Stream));
        Type ret = method.ReturnType;
        if (ret.IsGenericType && ret.GetGenericTypeDefinition() == typeof(Task<>))
            ret = ret.GetGenericArguments()[0];
        needsSerializer |= ret != typeof(void) && ret != typeof(Task) && !typeof(Stream).IsAssignableFrom(ret);
        if (needsSerializer && serializer == null)
            throw new LambdaValidationException(
                "To use types other than System.IO.Stream as input/output parameters, the assembly or Lambda function should be annotated with Amazon.Lambda.LambdaSerializerAttribute.");
        object target = method.IsStatic ? null : Activator.CreateInstance(type);
        return new Handler(target, method, serializer);
    }

    internal byte[] Invoke(byte[] payload, ILambdaContext context)
    {
        var args = new object[method.GetParameters().Length];
        if (takesContext)
            args[args.Length - 1] = context;
        if (inputType == typeof(Stream))
            args[0] = new MemoryStream(payload, false);
        else if (inputType != null)
            args[0] = deserialize.Invoke(serializer, new object[] { new MemoryStream(payload, false) });
        object result;
        try
        {
            result = method.Invoke(target, args);
        }
        catch (TargetInvocationException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
        var task = result as Task;
        if (task != null)
        {
            task.GetAwaiter().GetResult();
            result = resultType == null ? null : task.GetType().GetProperty("Result").GetValue(task, null);
        }
        if (resultType == null)
            return new byte[0];
        var stream = result as Stream;
        if (stream != null)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        var output = new MemoryStream();
        serialize.Invoke(serializer, new object[] { result, output });
        return output.ToArray();
    }
}

public static class Program
{
    private static Assembly Resolve(object sender, ResolveEventArgs args)
    {
        string name = new AssemblyName(args.Name).Name;
        foreach (var dir in new[] { Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT") ?? "/var/task",
                                    "/opt/dotnetcore/store", "/opt/lib", "/var/runtime/lib" })
        {
            foreach (var ext in new[] { ".dll", ".exe" })
            {
                string path = Path.Combine(dir, name + ext);
                if (File.Exists(path))
                    return Assembly.LoadFrom(path);
            }
        }
        return null;
    }

    private static Exception Unwrap(Exception e)
    {
        return e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
    }

    public static int Main(string[] argv)
    {
        AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        var api = new RuntimeApi(Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API"));
        Handler handler;
        try
        {
            handler = Handler.Load(Environment.GetEnvironmentVariable("_HANDLER"));
        }
        catch (Exception raw)
        {
            var e = Unwrap(raw);
            Console.Error.WriteLine(e.ToString());
            api.Post("/init/error", Json.Error(e), e.GetType().Name);
            return 1;
        }
        while (true)
        {
            var next = api.Next();
            string requestId = next.Header("lambda-runtime-aws-request-id") ?? "";
            string trace = next.Header("lambda-runtime-trace-id");
            Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", string.IsNullOrEmpty(trace) ? null : trace);
            var context = new LambdaContext(next);
            byte[] response = null;
            Exception failure = null;
            try
            {
                response = handler.Invoke(next.Body, context);
            }
            catch (Exception e)
            {
                failure = Unwrap(e);
            }
            Console.Out.Flush();
            Console.Error.Flush();
            if (failure == null)
            {
                api.Post("/invocation/" + requestId + "/response", response, null);
            }
            else
            {
                Console.Error.WriteLine(failure.ToString());
                api.Post("/invocation/" + requestId + "/error", Json.Error(failure), failure.GetType().Name);
            }
        }
    }
}
}
