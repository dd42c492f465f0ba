package lambent.runtime;

import java.net.URL;
import java.net.URLClassLoader;

/**
 * The function's class loader: its own classes and libraries first (so a package bundling its own
 * Jackson, Joda-Time or AWS's event classes gets exactly those), except for the platform and the
 * handler interfaces of aws-lambda-java-core, which always come from the runtime: a fat jar
 * bundling AWS's aws-lambda-java-core then still implements the Context and RequestHandler the
 * runtime calls it with.
 */
final class FunctionClassLoader extends URLClassLoader {
  static { ClassLoader.registerAsParallelCapable(); }

  FunctionClassLoader(URL[] urls, ClassLoader parent) { super(urls, parent); }

  private static boolean fromRuntime(String name) {
    if (name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.")
        || name.startsWith("sun.") || name.startsWith("lambent.runtime.")) {
      return true;
    }
    return name.startsWith("com.amazonaws.services.lambda.runtime.")
        && !name.startsWith("com.amazonaws.services.lambda.runtime.events.");
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (fromRuntime(name)) return super.loadClass(name, resolve);
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        try {
          c = findClass(name);
        } catch (ClassNotFoundException e) {
          c = getParent().loadClass(name);
        }
      }
      if (resolve) resolveClass(c);
      return c;
    }
  }

  @Override
  public URL getResource(String name) {
    URL own = findResource(name);
    return own != null ? own : super.getResource(name);
  }
}
