package csvimport

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Personal data is never stored (APPI, and China's PIPL): a file's column
// of buyers' names, e-mail addresses, phone numbers or addresses is not
// read, and the summary names it. A customer id column is read, hashed
// (row.customer); so is any column the caller maps to the customer field.

// personalWords are English header words that alone mark personal data.
var personalWords = map[string]bool{
	"email": true, "mail": true, "phone": true, "tel": true, "telephone": true, "mobile": true, "cellphone": true,
	"fax": true, "address": true, "addr": true, "street": true, "zip": true, "zipcode": true, "postal": true,
	"postcode": true, "recipient": true, "consignee": true, "receiver": true, "addressee": true,
}

// nameOwners are English words that make "name" a person's name: buyer
// name, ship-to name, first name.
var nameOwners = map[string]bool{
	"buyer": true, "customer": true, "recipient": true, "ship": true, "shipping": true, "billing": true,
	"first": true, "last": true, "full": true, "given": true, "family": true, "contact": true, "consignee": true,
	"receiver": true, "purchaser": true, "member": true, "person": true, "user": true,
}

// personalParts are Chinese and Japanese header parts that mark personal
// data.
var personalParts = []string{
	// names
	"姓名", "名字", "收件人", "收货人", "买家姓名", "买家名", "客户姓名", "联系人", "氏名", "名前", "宛名", "購入者名",
	"注文者", "受取人", "送付先", "届け先", "配送先", "請求先", "フリガナ", "ふりがな",
	// e-mail addresses
	"邮箱", "电子邮件", "邮件", "電子メール", "メール",
	// phone numbers
	"电话", "手机", "手機", "電話", "携帯",
	// addresses
	"地址", "住所", "邮编", "邮政编码", "郵便番号", "番地", "街道",
}

// isPersonal reports whether a column's header says it holds personal
// data, in English, Chinese or Japanese.
func isPersonal(header string) bool {
	h := width.Fold.String(header)
	for _, p := range personalParts {
		if strings.Contains(h, p) {
			return true
		}
	}
	// English words: the runs of ASCII letters and digits (TEL番号 is "tel").
	tokens := strings.FieldsFunc(strings.ToLower(h), func(r rune) bool {
		return r >= unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	has := map[string]bool{}
	for _, t := range tokens {
		if personalWords[t] {
			return true
		}
		has[t] = true
	}
	if has["ship"] && has["to"] {
		return true
	}
	if has["name"] || has["names"] {
		for t := range has {
			if nameOwners[t] {
				return true
			}
		}
	}
	return false
}
