# Lambent's runtime interface client for Ruby (ruby3.x managed runtimes).
#
# Started as `ruby --disable-gems /var/runtime/bootstrap.rb` inside the environment (RubyGems is
# loaded only when the package or a layer brings gems: vendor/bundle, /opt/ruby/gems). Loads the
# handler named by _HANDLER from /var/task (Init), then loops over the Runtime API: GET /next,
# call the handler with `event:` and `context:` keywords, POST /response or /error. Behaviour
# follows AWS's Ruby runtime: handlers `file.method` (a top-level method) and
# `file.Module::Class.method`, the context object, errors as
# {"errorMessage", "errorType": "Function<Class>", "stackTrace"} (Init<Class> while loading).
require 'socket'
require 'json'

API = ENV.fetch('AWS_LAMBDA_RUNTIME_API')
BASE = '/2018-06-01/runtime'

# A minimal keep-alive HTTP/1.1 client over a socket (net/http costs Init time).
class RuntimeClient
  def initialize(address)
    @host, port = address.split(':')
    @port = (port || 80).to_i
    @sock = nil
  end

  def request(method, path, body = '', headers = {})
    2.times do |attempt|
      begin
        @sock ||= TCPSocket.new(@host, @port).tap { |s| s.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1) }
        head = +"#{method} #{path} HTTP/1.1\r\nHost: #{@host}\r\nContent-Length: #{body.bytesize}\r\n"
        headers.each { |k, v| head << "#{k}: #{v}\r\n" }
        @sock.write(head << "\r\n", body)
        return read_response
      rescue IOError, SystemCallError, EOFError
        @sock&.close rescue nil
        @sock = nil
        raise if attempt == 1
      end
    end
  end

  def read_response
    status_line = @sock.gets("\r\n") or raise EOFError
    status = status_line.split(' ', 3)[1].to_i
    headers = {}
    while (line = @sock.gets("\r\n")) && line != "\r\n"
      k, v = line.split(':', 2)
      headers[k.strip.downcase] = v.to_s.strip
    end
    length = headers['content-length'].to_i
    body = length.positive? ? @sock.read(length) : +''
    [status, headers, body]
  end

  def next_invocation
    loop do
      status, headers, body = request('GET', "#{BASE}/invocation/next")
      return [headers, body] if status == 200
      sleep 0.01
    end
  end

  def post(path, body, error_type = nil)
    headers = { 'Content-Type' => 'application/json' }
    headers['Lambda-Runtime-Function-Error-Type'] = error_type if error_type
    request('POST', "#{BASE}#{path}", body, headers)
  end
end

# The context object, with the members AWS's Ruby runtime gives.
class LambdaContext
  attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name,
              :function_name, :memory_limit_in_mb, :function_version, :identity, :client_context,
              :deadline_ms

  def initialize(headers)
    @aws_request_id = headers['lambda-runtime-aws-request-id']
    @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
    @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
    @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
    @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
    @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
    @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
    @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
    cognito = headers['lambda-runtime-cognito-identity']
    @identity = cognito && !cognito.empty? ? JSON.parse(cognito) : nil
    client = headers['lambda-runtime-client-context']
    @client_context = client && !client.empty? ? JSON.parse(client) : nil
  end

  def get_remaining_time_in_millis
    [@deadline_ms - (Process.clock_gettime(Process::CLOCK_REALTIME) * 1000).to_i, 0].max
  end
end

def error_body(prefix, error)
  { 'errorMessage' => error.message, 'errorType' => "#{prefix}<#{error.class}>",
    'stackTrace' => error.backtrace || [] }
end

# The handler: [receiver, method name]. Raises while loading (Init errors).
def load_handler(name)
  file, method = name.to_s.split('.', 2)
  raise LoadError, "Bad handler #{name}: expected file.method or file.Class.method" if file.to_s.empty? || method.to_s.empty?
  path = File.join(ENV.fetch('LAMBDA_TASK_ROOT', '/var/task'), file)
  require path
  if method.include?('.')
    owner, meth = method.split(/\.(?=[^.]+\z)/)
    [Object.const_get(owner), meth]
  else
    [self, method]
  end
end

$stdout.sync = true
$stderr.sync = true
# Gems from the package (vendor/bundle) or layers (/opt/ruby/gems), as on AWS.
if ENV.fetch('GEM_PATH', '').split(':').any? { |d| Dir.exist?(d) }
  require 'rubygems'
end

client = RuntimeClient.new(API)
begin
  receiver, method = load_handler(ENV['_HANDLER'])
rescue ScriptError, StandardError => e
  body = error_body('Init', e)
  $stderr.puts "Init error when loading handler #{ENV['_HANDLER']}"
  $stderr.puts JSON.generate(body)
  client.post('/init/error', JSON.generate(body), body['errorType'])
  exit!(1)
end

loop do
  headers, payload = client.next_invocation
  request_id = headers['lambda-runtime-aws-request-id']
  if (trace = headers['lambda-runtime-trace-id']) && !trace.empty?
    ENV['_X_AMZN_TRACE_ID'] = trace
  else
    ENV.delete('_X_AMZN_TRACE_ID')
  end
  context = LambdaContext.new(headers)
  begin
    event = payload.empty? ? nil : JSON.parse(payload, quirks_mode: true)
    result = receiver.send(method, event: event, context: context)
    client.post("/invocation/#{request_id}/response", JSON.generate(result, quirks_mode: true))
  rescue SystemExit
    raise
  rescue ScriptError, StandardError => e
    body = error_body('Function', e)
    $stderr.puts 'Error raised from handler method'
    $stderr.puts JSON.generate(body)
    client.post("/invocation/#{request_id}/error", JSON.generate(body), body['errorType'])
  end
end
