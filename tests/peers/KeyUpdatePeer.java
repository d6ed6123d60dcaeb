/*
 * KeyUpdatePeer - a JSSE (the JDK's own TLS) peer for the KeyUpdate tests: sends a file and
 * receives one over TLS 1.3 on one connection, with the JDK's key limit set low, so that it
 * sends a KeyUpdate asking for one back (update_requested) after every KEY_LIMIT bytes it
 * encrypts, as JDK peers do on their own after 2^37 bytes. It does not read at all until it has
 * sent everything: whoever sends to it finds its socket full while the KeyUpdates arrive.
 *
 * java KeyUpdatePeer server PORT CA.pem KEYSTORE.p12 SEND RECV DELAY_MS
 * java KeyUpdatePeer client PORT CA.pem -            SEND RECV DELAY_MS
 *
 * server: listens on 127.0.0.1:PORT for one connection (prints "listening" to stderr first);
 * client: connects to 127.0.0.1:PORT and checks the server's certificate (CA.pem, name
 * localhost). The keystore (PKCS12, password "test") holds the server's key and certificate.
 * After DELAY_MS it sends SEND, then close_notify (a TLS 1.3 half-close), then reads into RECV
 * until the other side's close_notify. Exit 0 when both directions ended cleanly.
 */
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.CertificateFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class KeyUpdatePeer {
	static final String KEY_LIMIT = "2^20";

	public static void main(String[] args) throws Exception {
		// Read once, when the TLS classes load: before anything else touches them.
		Security.setProperty("jdk.tls.keyLimits", "AES/GCM/NoPadding KeyUpdate " + KEY_LIMIT
				+ ", ChaCha20-Poly1305 KeyUpdate " + KEY_LIMIT);
		boolean server = args[0].equals("server");
		int port = Integer.parseInt(args[1]);
		char[] password = "test".toCharArray();

		KeyStore trust = KeyStore.getInstance("PKCS12");
		trust.load(null, null);
		try (InputStream in = new FileInputStream(args[2])) {
			trust.setCertificateEntry("ca",
					CertificateFactory.getInstance("X.509").generateCertificate(in));
		}
		TrustManagerFactory tmf =
				TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
		tmf.init(trust);
		KeyManagerFactory kmf = null;
		if (server) {
			KeyStore keys = KeyStore.getInstance("PKCS12");
			try (InputStream in = new FileInputStream(args[3])) {
				keys.load(in, password);
			}
			kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
			kmf.init(keys, password);
		}
		SSLContext ctx = SSLContext.getInstance("TLSv1.3");
		ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);

		SSLSocket s;
		InetAddress local = InetAddress.getByName("127.0.0.1");
		if (server) {
			try (SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory()
							.createServerSocket(port, 1, local)) {
				System.err.println("listening");
				s = (SSLSocket) ss.accept();
			}
		} else {
			s = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", port);
			SSLParameters p = s.getSSLParameters();
			p.setEndpointIdentificationAlgorithm("HTTPS");
			s.setSSLParameters(p);
		}
		s.setEnabledProtocols(new String[] {"TLSv1.3"});
		s.startHandshake();
		System.err.println("established " + s.getSession().getProtocol() + " "
				+ s.getSession().getCipherSuite());

		Thread.sleep(Long.parseLong(args[6]));
		long sent = 0, received = 0;
		byte[] buf = new byte[65536];
		OutputStream out = s.getOutputStream();
		try (InputStream in = new FileInputStream(args[4])) {
			for (int n; (n = in.read(buf)) > 0; sent += n)
				out.write(buf, 0, n);
		}
		out.flush();
		s.shutdownOutput();
		System.err.println("sent " + sent);
		InputStream in = s.getInputStream();
		try (OutputStream file = new FileOutputStream(args[5])) {
			for (int n; (n = in.read(buf)) > 0; received += n)
				file.write(buf, 0, n);
		}
		System.err.println("received " + received);
		s.close();
	}
}
