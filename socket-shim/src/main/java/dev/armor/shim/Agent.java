package dev.armor.shim;

import java.lang.System.Logger.Level;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.security.CodeSource;

/**
 * The Armor socket shim's Java agent entry: {@code -javaagent:armor-socket-shim-agent.jar=socket=/abs/daemon.sock,
 * node=NAME[,armor=ARMOR_ID][,timeout=MILLIS][,heartbeat=MILLIS][,lease=MILLIS][,fence=on|off]}, or the same
 * through {@code JAVA_TOOL_OPTIONS} (see {@code ShimConfig} for each argument). Without a {@code
 * socket} argument it does nothing at all, silently: {@code JAVA_TOOL_OPTIONS} reaches every JVM of a shell.
 *
 * <p>Why so thin: {@code -javaagent} puts the agent jar on the app's class path, and this class is the only class
 * at the jar's root. The shim runtime and its Byte Buddy sit under {@value #RUNTIME_DIR} in the same jar and are
 * loaded by a class loader of their own whose parent is the platform loader, so an app that bundles another
 * Byte Buddy (or anything else) never sees ours, and ours never sees the app's. Nothing is extracted to disk: the
 * loader reads the jar through {@code jar:} URLs. Relocating Byte Buddy with the shade plugin was the alternative;
 * it rewrites Byte Buddy's own string constants (its property names) and still puts classes on the app's path.
 */
public final class Agent {
  static final String RUNTIME_DIR = "armor-shim-runtime/";
  private static final String RUNTIME_CLASS = "dev.armor.shim.internal.ShimRuntime";
  private static boolean started; // guarded by Agent.class

  private Agent() {}

  /** Entry for {@code -javaagent}. */
  public static void premain(String agentArgs, Instrumentation instrumentation) {
    start(agentArgs, instrumentation);
  }

  /** Entry for attaching to a running JVM: the same, though connections opened before stay as they are. */
  public static void agentmain(String agentArgs, Instrumentation instrumentation) {
    start(agentArgs, instrumentation);
  }

  private static void start(String agentArgs, Instrumentation instrumentation) {
    if (!hasSocketArgument(agentArgs) || !firstStart()) {
      return;
    }
    try {
      Class<?> runtime = Class.forName(RUNTIME_CLASS, true, runtimeLoader());
      runtime.getMethod("start", Instrumentation.class, String.class).invoke(null, instrumentation, agentArgs);
    } catch (InvocationTargetException e) {
      reportFailure(e.getCause());
    } catch (ClassNotFoundException e) {
      // -javaagent appends the agent jar to the class path: a copy of this class earlier on the app's own class path
      // (the shim's plain jar, a build's classes) is the one loaded, and its location has no runtime
      System.err.println("Armor: the socket shim could not start, this app's sockets are NOT rerouted through Armor:"
          + " its agent class was loaded from " + Agent.class.getProtectionDomain().getCodeSource().getLocation()
          + ", not from the agent jar (a copy of dev.armor.shim.Agent is on the app's class path ahead of it); remove"
          + " that copy from the class path");
    } catch (Exception | LinkageError e) {
      reportFailure(e);
    }
  }

  /** The cheap test that keeps the agent inert: is there a {@code socket=} among the comma-separated pairs? */
  static boolean hasSocketArgument(String agentArgs) {
    if (agentArgs == null) {
      return false;
    }
    for (String pair : agentArgs.split(",")) {
      if (pair.trim().startsWith("socket=")) {
        return true;
      }
    }
    return false;
  }

  private static synchronized boolean firstStart() {
    if (started) {
      return false;
    }
    started = true;
    return true;
  }

  private static ClassLoader runtimeLoader() throws Exception {
    CodeSource source = Agent.class.getProtectionDomain().getCodeSource();
    if (source == null || source.getLocation() == null) {
      throw new IllegalStateException("cannot tell which jar the agent was loaded from");
    }
    URL runtime = new URL("jar:" + source.getLocation().toURI() + "!/" + RUNTIME_DIR);
    return new URLClassLoader("armor-socket-shim", new URL[] {runtime}, ClassLoader.getPlatformClassLoader());
  }

  private static void reportFailure(Throwable failure) {
    System.getLogger("dev.armor.shim").log(Level.ERROR,
        "the Armor socket shim could not start; this app's sockets are NOT rerouted through Armor", failure);
  }
}
