package lambent.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The handler named by _HANDLER, resolved as AWS's Java runtime does: `package.Class::method` or
 * `package.Class` (a RequestHandler or RequestStreamHandler); a static method, or an instance
 * method on one instance made at Init with the public no-argument constructor. Of several public
 * methods with that name, the one with the most parameters is called. Parameters:
 * (InputStream, OutputStream[, Context]) for raw payloads, or ([input[, Context]]) with the input
 * converted from JSON to the parameter's declared type.
 */
final class Handler {
  /** A failure while converting the payload or the result: AWS's "JSON parsing" error. */
  static final class SerializationError extends Exception {
    private static final long serialVersionUID = 1L;

    SerializationError(String message, Throwable cause) { super(message, cause); }
  }

  private final Object target;
  private final Method method;
  private final boolean stream;
  private final boolean takesContext;
  private final Type inputType;
  private final boolean hasInput;

  private Handler(Object target, Method method) {
    this.target = target;
    this.method = method;
    Class<?>[] p = method.getParameterTypes();
    stream = p.length >= 2 && p[0] == InputStream.class && p[1] == OutputStream.class;
    takesContext = p.length > 0 && p[p.length - 1] == Context.class;
    hasInput = !stream && p.length > 0 && !(p.length == 1 && takesContext);
    inputType = hasInput ? method.getGenericParameterTypes()[0] : null;
    method.setAccessible(true);
  }

  /** Loads, initialises and instantiates the handler's class (Init). */
  static Handler load(String spec, ClassLoader loader) throws Throwable {
    if (spec == null || spec.isEmpty()) {
      throw new IllegalArgumentException("The handler is empty: expected package.Class::method");
    }
    int sep = spec.indexOf("::");
    String className = sep < 0 ? spec : spec.substring(0, sep);
    String methodName = sep < 0 ? null : spec.substring(sep + 2);
    Class<?> cls;
    try {
      cls = Class.forName(className, true, loader);
    } catch (ClassNotFoundException e) {
      throw new ClassNotFoundException("Class not found: " + className);
    }
    if (methodName == null) {
      if (!RequestHandler.class.isAssignableFrom(cls)
          && !RequestStreamHandler.class.isAssignableFrom(cls)) {
        throw new RuntimeException("Class " + className + " does not implement RequestHandler or "
            + "RequestStreamHandler: name the method with " + className + "::method");
      }
      methodName = "handleRequest";
    }
    Method best = null;
    for (Method m : cls.getMethods()) {
      if (!m.getName().equals(methodName) || m.isBridge() || m.isSynthetic()) continue;
      if (!acceptable(m)) continue;
      if (best == null || m.getParameterCount() > best.getParameterCount()) best = m;
    }
    if (best == null) {
      throw new NoSuchMethodException("No public method named " + methodName
          + " with appropriate method signature found on class " + className);
    }
    Object target = null;
    if (!Modifier.isStatic(best.getModifiers())) {
      try {
        target = cls.getConstructor().newInstance();
      } catch (InvocationTargetException e) {
        throw e.getCause();
      } catch (NoSuchMethodException e) {
        throw new NoSuchMethodException("Class " + className + " has no public zero-argument "
            + "constructor");
      }
    }
    return new Handler(target, best);
  }

  private static boolean acceptable(Method m) {
    Class<?>[] p = m.getParameterTypes();
    switch (p.length) {
      case 0:
      case 1:
        return true;
      case 2:
        return p[1] == Context.class || (p[0] == InputStream.class && p[1] == OutputStream.class);
      case 3:
        return p[0] == InputStream.class && p[1] == OutputStream.class && p[2] == Context.class;
      default:
        return false;
    }
  }

  /** Calls the handler; returns the response payload. Throws what the handler threw. */
  byte[] invoke(byte[] payload, Context context) throws Throwable {
    Object[] args = new Object[method.getParameterCount()];
    if (takesContext) args[args.length - 1] = context;
    ByteArrayOutputStream out = null;
    if (stream) {
      out = new ByteArrayOutputStream();
      args[0] = new ByteArrayInputStream(payload);
      args[1] = out;
    } else if (hasInput) {
      args[0] = input(payload);
    }
    Object result;
    try {
      result = method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
    if (stream) return out.toByteArray();
    if (method.getReturnType() == void.class) return "null".getBytes();
    try {
      try {
        return Json.write(result);
      } catch (Json.NotPlain e) {
        return Pojo.write(result);
      }
    } catch (Exception e) {
      throw new SerializationError("An error occurred during JSON serialization of response", e);
    }
  }

  private Object input(byte[] payload) throws SerializationError {
    try {
      if (isPlain(inputType)) {
        Object v = payload.length == 0 ? null : Json.parse(payload);
        Object converted = coerce(v, inputType);
        if (converted != NO) return converted;
      }
      return Pojo.read(payload, inputType);
    } catch (Exception e) {
      throw new SerializationError("An error occurred during JSON parsing", e);
    }
  }

  private static final Object NO = new Object();

  /** The types Json gives directly: Object, maps and lists of anything, strings, scalars. */
  private static boolean isPlain(Type t) {
    if (t instanceof Class) {
      Class<?> c = (Class<?>) t;
      return c == Object.class || c == String.class || c == Map.class || c == List.class
          || c == Collection.class || c == Integer.class || c == int.class || c == Long.class
          || c == long.class || c == Double.class || c == double.class || c == Boolean.class
          || c == boolean.class || c == Number.class;
    }
    if (t instanceof ParameterizedType) {
      ParameterizedType pt = (ParameterizedType) t;
      Type raw = pt.getRawType();
      if (raw != Map.class && raw != List.class && raw != Collection.class) return false;
      Type[] args = pt.getActualTypeArguments();
      Type value = args[args.length - 1];
      if (raw == Map.class && args[0] != String.class && args[0] != Object.class) return false;
      return value == Object.class
          || (value instanceof WildcardType
              && ((WildcardType) value).getUpperBounds()[0] == Object.class);
    }
    return false;
  }

  /** The parsed value as the declared type, or NO when databind must convert it. */
  private static Object coerce(Object v, Type t) {
    Class<?> c =
        t instanceof Class ? (Class<?>) t : (Class<?>) ((ParameterizedType) t).getRawType();
    if (v == null) return c.isPrimitive() ? NO : null;
    if (c == Object.class || c.isInstance(v)) return v;
    if (v instanceof Number) {
      Number n = (Number) v;
      if (c == int.class || c == Integer.class) return n.intValue();
      if (c == long.class || c == Long.class) return n.longValue();
      if (c == double.class || c == Double.class) return n.doubleValue();
    }
    if (c == boolean.class && v instanceof Boolean) return v;
    return NO;
  }
}
