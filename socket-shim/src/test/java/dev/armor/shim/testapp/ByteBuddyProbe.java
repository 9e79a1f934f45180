package dev.armor.shim.testapp;

import java.io.InputStream;
import java.util.Properties;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.dynamic.loading.ClassLoadingStrategy;

/**
 * The app's own use of Byte Buddy (a different version from the shim's): generates and loads a class, and reports
 * which Byte Buddy did it. A class of its own so that {@link ProbeApp} loads without Byte Buddy on the class path.
 */
final class ByteBuddyProbe {
  private ByteBuddyProbe() {}

  static String probe() throws Exception {
    ByteBuddy byteBuddy = new ByteBuddy();
    Class<?> generated = byteBuddy.subclass(Object.class).name("dev.armor.shim.testapp.Generated").make()
        .load(ByteBuddyProbe.class.getClassLoader(), ClassLoadingStrategy.Default.WRAPPER).getLoaded();
    return "version=" + version() + " generated=" + generated.getName() + " toString=" + byteBuddy.toString().length();
  }

  private static String version() throws Exception {
    Properties properties = new Properties();
    try (InputStream in = ByteBuddy.class.getClassLoader()
        .getResourceAsStream("META-INF/maven/net.bytebuddy/byte-buddy/pom.properties")) {
      properties.load(in);
    }
    return properties.getProperty("version");
  }
}
