package awssim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// S3 is answered by gofakes3, behind the same authentication, call counts and fault seam as every other service, with
// IAM (and SSE-KMS's key permissions) evaluated by authorizeS3. It throttles with SlowDown, HTTP 503, and refuses with
// AWS's common AccessDenied.
func init() {
	registerService("s3", protocol{serve: (*Server).serveS3}, Fault{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."})
}

// serveS3 hands S3 to gofakes3 after the same authentication and fault seam as every other service.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, key, region string) {
	op := s3Operation(r)
	c := Call{Service: "s3", Operation: op, Region: region}
	s.count(c)
	token := sessionToken(r)
	p, ok := s.principal(r.Context(), key, token)
	if !ok || p.token != token {
		writeS3Error(w, &Fault{Status: 403, Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records."})
		return
	}
	if exp := r.URL.Query().Get("X-Amz-Expires"); exp != "" {
		if f := presignExpired(r, s.now()); f != nil {
			writeS3Error(w, f)
			return
		}
	}
	// A presigned URL lives no longer than the session that signed it.
	if !p.expires.IsZero() && s.now().After(p.expires) {
		writeS3Error(w, &Fault{Status: 400, Code: "ExpiredToken", Message: "The provided token has expired."})
		return
	}
	// S3 routes by region before it authorizes: a refusal still names the bucket's region.
	if s.redirectToBucketRegion(w, r, region) {
		return
	}
	if f := s.authorizeS3(r, p, region); f != nil {
		writeS3Error(w, f)
		return
	}
	c.AccountID = p.accountID
	if f := s.intercepted(r.Context(), c); f != nil {
		writeS3Error(w, f)
		return
	}
	if f := s.missingKeyUnlisted(r, p, op); f != nil {
		writeS3Error(w, f)
		return
	}
	if op != "PutObject" {
		s.s3.ServeHTTP(w, r)
		return
	}
	// Only a write S3 accepted is an upload: a conditional write that lost (412) wrote nothing.
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.s3.ServeHTTP(rec, r)
	if rec.status == http.StatusOK {
		bucket, objKey, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		s.mu.Lock()
		s.uploads = append(s.uploads, Upload{Bucket: bucket, Key: objKey, ServerSideEncryption: r.Header.Get("X-Amz-Server-Side-Encryption")})
		s.mu.Unlock()
	}
}

// statusRecorder remembers the status an answer was sent with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// missingKeyUnlisted answers a GET or HEAD of a key that does not exist as S3 does for a caller without
// s3:ListBucket on the bucket: 403 AccessDenied, not 404 NoSuchKey, so that such a caller cannot learn which keys
// exist. Only a grant that holds for this request counts: a ListBucket limited by s3:prefix does not, since a GET
// carries no prefix. Without IAM enforcement every caller may list, and S3 answers 404.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_Permissions
func (s *Server) missingKeyUnlisted(r *http.Request, p principal, op string) *Fault {
	if s.iam == nil || op != "GetObject" && op != "HeadObject" {
		return nil
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	obj, err := s.s3backend.HeadObject(bucket, key)
	if err == nil {
		if obj.Contents != nil {
			_ = obj.Contents.Close()
		}
		return nil
	}
	if !gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
		return nil
	}
	if s.iam.allows(p, "s3:ListBucket", "arn:"+s.org.partition()+":s3:::"+bucket) {
		return nil
	}
	return &Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"}
}

// redirectToBucketRegion answers as S3 does for where a bucket lives: every answer about the bucket carries
// x-amz-bucket-region (what HeadBucket is for), and a request signed for another region is not served but redirected,
// 301 PermanentRedirect, so a client in the wrong region fails as it would on AWS. It reports whether it answered.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
func (s *Server) redirectToBucketRegion(w http.ResponseWriter, r *http.Request, signingRegion string) bool {
	bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	home := ""
	for _, a := range s.org.Accounts {
		for name, reg := range a.Regions {
			if slices.Contains(reg.Buckets, bucket) {
				home = name
			}
		}
	}
	if home == "" {
		return false
	}
	w.Header().Set("X-Amz-Bucket-Region", home)
	if signingRegion == home {
		return false
	}
	writeS3Error(w, &Fault{Status: http.StatusMovedPermanently, Code: "PermanentRedirect",
		Message: "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."})
	return true
}

func presignExpired(r *http.Request, now time.Time) *Fault {
	q := r.URL.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	var secs int
	if _, serr := fmt.Sscanf(q.Get("X-Amz-Expires"), "%d", &secs); err != nil || serr != nil {
		return &Fault{Status: 403, Code: "AuthorizationQueryParametersError", Message: "X-Amz-Date or X-Amz-Expires is malformed"}
	}
	if now.After(signed.Add(time.Duration(secs) * time.Second)) {
		return &Fault{Status: 403, Code: "AccessDenied", Message: "Request has expired"}
	}
	return nil
}

func s3Operation(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	hasKey := strings.Contains(path, "/") && !strings.HasSuffix(path, "/")
	switch {
	case r.Method == http.MethodPut && hasKey:
		return "PutObject"
	case r.Method == http.MethodGet && hasKey:
		return "GetObject"
	case r.Method == http.MethodHead && hasKey:
		return "HeadObject"
	case r.Method == http.MethodGet:
		return "ListObjects"
	}
	return r.Method + "Bucket"
}

func writeS3Error(w http.ResponseWriter, f *Fault) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, xmlEscape(f.Code), xmlEscape(f.Message))
}
